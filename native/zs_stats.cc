// zsmalloc's counters: the pool-wide ones and the per-class table of the kernel's debugfs
// classes file, as zsmalloc/class/<size>/{objs_per_zspage,pages_per_zspage,zspages,obj_allocated,
// obj_used,pages_used}, both allocation classes summed (<size>: the slot size, header included;
// 4096 for the huge class).
#include <string>

#include "zsmalloc.h"

namespace tmem {

namespace {

constexpr const char* kClassColumns[] = {"objs_per_zspage", "pages_per_zspage", "zspages",
                                         "obj_allocated", "obj_used", "pages_used"};

}  // namespace

void Zsmalloc::stats(AllocatorStats* out) const {
  for (int c = 0; c < kNumAllocClasses; c++) {
    out->class_frames[c] = 0;
    out->class_object_bytes[c] = 0;
    for (uint32_t i = 0; i < classes_.count(); i++) {
      const ClassState* s = states_[c][i].get();
      if (s == nullptr) continue;
      out->class_frames[c] += s->frames;
      out->class_object_bytes[c] += uint64_t{s->used} * classes_[i].size;
    }
  }
  out->metadata_bytes = zspages_.committed() + handles_.committed() + sizeof(ClassState) * class_states_ +
                        sizeof(states_[0][0]) * kNumAllocClasses * classes_.count() +
                        sizeof(SizeClass) * classes_.count() + classes_.count();
}

std::vector<std::string> Zsmalloc::stat_names() const {
  std::vector<std::string> names = {"zsmalloc/compactions", "zsmalloc/pages_compacted", "zsmalloc/pages"};
  for (uint32_t i = 0; i < classes_.count(); i++) {
    const std::string dir = "zsmalloc/class/" + std::to_string(classes_[i].size) + "/";
    for (const char* column : kClassColumns) names.push_back(dir + column);
  }
  return names;
}

void Zsmalloc::stat_values(double* out) const {
  uint64_t frames = 0;
  for (const auto& per_class : states_) {
    for (const auto& s : per_class) frames += s == nullptr ? 0 : s->frames;
  }
  *out++ = static_cast<double>(compactions_);
  *out++ = static_cast<double>(frames_compacted_);
  *out++ = static_cast<double>(frames);
  for (uint32_t i = 0; i < classes_.count(); i++) {
    const SizeClass& c = classes_[i];
    uint64_t zspages = 0, used = 0, pages = 0;
    for (const auto& per_class : states_) {
      if (per_class[i] == nullptr) continue;
      zspages += per_class[i]->zspages;
      used += per_class[i]->used;
      pages += per_class[i]->frames;
    }
    *out++ = c.objs;
    *out++ = c.frames;
    *out++ = static_cast<double>(zspages);
    *out++ = static_cast<double>(zspages * c.objs);
    *out++ = static_cast<double>(used);
    *out++ = static_cast<double>(pages);
  }
}

}  // namespace tmem
