#pragma once

#include <iosfwd>
#include <memory>
#include <ostream>
#include <streambuf>
#include <string>

namespace pgparity::reconciler {

/// Sends pgparity's logs to `err`: "text" (`info: message`) or "json" (one
/// object a line: time, level, message). Secrets never reach a log: every
/// DSN pgparity prints is masked first.
void configure_logging(std::ostream& err, const std::string& level, const std::string& format);

/// An ostream whose every line becomes one info-level log event (for apply's progress).
class LogStream : public std::ostream {
 public:
  LogStream();
  ~LogStream() override;

 private:
  class Buffer : public std::streambuf {
   protected:
    int overflow(int c) override;

   private:
    std::string line_;
  };
  Buffer buffer_;
};

}  // namespace pgparity::reconciler
