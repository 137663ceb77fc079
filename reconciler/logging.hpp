#pragma once

#include <iosfwd>
#include <memory>
#include <ostream>
#include <streambuf>
#include <string>
#include <utility>
#include <vector>

namespace pgparity::reconciler {

/// Sends pgparity's logs to `err`: "text" (`info: message`) or "json" (one
/// object a line: time, level, message). Secrets never reach a log: every
/// DSN pgparity prints is masked first.
void configure_logging(std::ostream& err, const std::string& level, const std::string& format);

/// True when logs are JSON lines (then progress output goes through the log too).
bool logging_as_json();

/// Fields of the events logged on this thread while it lives, e.g. target,
/// database, extension, from, to, duration_ms. In JSON each becomes a key
/// beside "message"; the text format shows only the message, which already
/// says the same in words.
class LogFields {
 public:
  explicit LogFields(std::vector<std::pair<std::string, std::string>> fields);
  ~LogFields();
  LogFields(const LogFields&) = delete;
  LogFields& operator=(const LogFields&) = delete;

 private:
  std::vector<std::pair<std::string, std::string>> previous_;
};

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
