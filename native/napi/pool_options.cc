#include "pool_options.h"

#include <cmath>
#include <string>

#include "args.h"

namespace tmem {

namespace {

// Reads an optional integer option in [0, max]; leaves *out alone when absent.
bool OptionInteger(Napi::Object options, const char* name, double max, double* out) {
  Napi::Value v = options.Get(name);
  if (v.IsUndefined()) return true;
  std::string what = std::string("options.") + name;
  if (!v.IsNumber()) {
    ThrowTypeError(options.Env(), (what + " must be a number").c_str());
    return false;
  }
  double d = v.As<Napi::Number>().DoubleValue();
  if (!(d >= 0 && d <= max && std::trunc(d) == d)) {
    ThrowRangeError(options.Env(), "ERR_OUT_OF_RANGE",
                    (what + " must be an integer in [0, " + std::to_string(static_cast<uint64_t>(max)) + "]").c_str());
    return false;
  }
  *out = d;
  return true;
}

// Reads an optional boolean option; leaves *out alone when absent.
bool OptionBool(Napi::Object options, const char* name, bool* out) {
  Napi::Value v = options.Get(name);
  if (v.IsUndefined()) return true;
  if (!v.IsBoolean()) {
    ThrowTypeError(options.Env(), (std::string("options.") + name + " must be a boolean").c_str());
    return false;
  }
  *out = v.As<Napi::Boolean>().Value();
  return true;
}

// Reads the optional allocator name; leaves *out alone when absent.
bool OptionAllocator(Napi::Object options, AllocatorKind* out) {
  Napi::Value v = options.Get("allocator");
  if (v.IsUndefined()) return true;
  static const struct {
    const char* name;
    AllocatorKind kind;
  } kinds[] = {{"zsmalloc", AllocatorKind::kZsmalloc}, {"z3fold", AllocatorKind::kZ3fold}, {"zbud", AllocatorKind::kZbud}};
  if (v.IsString()) {
    const std::string name = v.As<Napi::String>().Utf8Value();
    for (const auto& k : kinds) {
      if (name == k.name) {
        *out = k.kind;
        return true;
      }
    }
  }
  ThrowRangeError(options.Env(), "ERR_OUT_OF_RANGE", "options.allocator must be 'zsmalloc', 'z3fold' or 'zbud'");
  return false;
}

}  // namespace

bool ParseOptions(const Napi::CallbackInfo& info, PoolOptions* opts) {
  Napi::Value arg = info[0];
  if (arg.IsUndefined() || arg.IsNull()) return true;
  if (!arg.IsObject()) {
    ThrowTypeError(info.Env(), "The \"options\" argument must be an object");
    return false;
  }
  Napi::Object options = arg.As<Napi::Object>();
  double max_bytes = static_cast<double>(opts->max_pool_bytes);
  double max_c = opts->max_compressed_bytes;
  double max_mean = opts->max_mean_compressed_bytes;
  double accept = opts->accept_threshold_percent;
  if (!OptionInteger(options, "maxPoolBytes", static_cast<double>(uint64_t{Arena::kMaxFrames} * kPageSize),
                     &max_bytes) ||
      !OptionInteger(options, "maxCompressedBytes", kPageSize, &max_c) ||
      !OptionInteger(options, "maxMeanCompressedBytes", kPageSize, &max_mean) ||
      !OptionInteger(options, "acceptThresholdPercent", 100, &accept)) {
    return false;
  }
  if (!OptionBool(options, "storeIncompressible", &opts->store_incompressible) ||
      !OptionBool(options, "ignoreNonactivePuts", &opts->ignore_nonactive_puts) ||
      !OptionBool(options, "autoCompact", &opts->auto_compact) ||
      !OptionAllocator(options, &opts->allocator)) {
    return false;
  }
  opts->max_pool_bytes = static_cast<uint64_t>(max_bytes);
  opts->max_compressed_bytes = static_cast<uint32_t>(max_c);
  opts->max_mean_compressed_bytes = static_cast<uint32_t>(max_mean);
  opts->accept_threshold_percent = static_cast<uint32_t>(accept);
  return true;
}

}  // namespace tmem
