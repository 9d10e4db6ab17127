// make_allocator(): the one place that knows every allocator (the pool does not).
#include "allocator.h"

#include "z3fold.h"
#include "zbud.h"
#include "zsmalloc.h"

namespace tmem {

std::unique_ptr<Allocator> make_allocator(AllocatorKind kind, Arena* arena) {
  switch (kind) {
    case AllocatorKind::kZsmalloc:
      return std::make_unique<Zsmalloc>(arena);
    case AllocatorKind::kZ3fold:
      return std::make_unique<Z3fold>(arena);
    case AllocatorKind::kZbud:
      return std::make_unique<Zbud>(arena);
  }
  return nullptr;
}

}  // namespace tmem
