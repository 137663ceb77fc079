#include "reconciler/logging.hpp"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>

namespace pgparity::reconciler {

namespace {

thread_local std::vector<std::pair<std::string, std::string>> current_fields;
bool as_json = false;

/// %j: "message": the message as a JSON string, then this thread's LogFields.
class JsonMessage : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&, spdlog::memory_buf_t& dest) override {
    std::string text = "\"message\":" + nlohmann::json(std::string(msg.payload.data(), msg.payload.size())).dump();
    for (const auto& [key, value] : current_fields) {
      text += "," + nlohmann::json(key).dump() + ":" + nlohmann::json(value).dump();
    }
    dest.append(text.data(), text.data() + text.size());
  }
  std::unique_ptr<custom_flag_formatter> clone() const override { return std::make_unique<JsonMessage>(); }
};

}  // namespace

void configure_logging(std::ostream& err, const std::string& level, const std::string& format) {
  spdlog::drop("pgparity");
  as_json = format == "json";
  auto logger =
      std::make_shared<spdlog::logger>("pgparity", std::make_shared<spdlog::sinks::ostream_sink_mt>(err, true));
  if (format == "json") {
    auto formatter = std::make_unique<spdlog::pattern_formatter>();
    formatter->add_flag<JsonMessage>('j').set_pattern(R"({"time":"%Y-%m-%dT%H:%M:%S.%e%z","level":"%l",%j})");
    logger->set_formatter(std::move(formatter));
  } else {
    logger->set_pattern("%^%l%$: %v");
  }
  logger->set_level(spdlog::level::from_str(level));
  spdlog::register_logger(logger);
  spdlog::set_default_logger(logger);
}

bool logging_as_json() { return as_json; }

LogFields::LogFields(std::vector<std::pair<std::string, std::string>> fields) : previous_(current_fields) {
  current_fields.insert(current_fields.end(), fields.begin(), fields.end());
}
LogFields::~LogFields() { current_fields = std::move(previous_); }

LogStream::LogStream() : std::ostream(&buffer_) {}
LogStream::~LogStream() = default;

int LogStream::Buffer::overflow(int c) {
  if (c == traits_type::eof()) return c;
  if (c == '\n') {
    spdlog::info(line_);
    line_.clear();
  } else {
    line_ += static_cast<char>(c);
  }
  return c;
}

}  // namespace pgparity::reconciler
