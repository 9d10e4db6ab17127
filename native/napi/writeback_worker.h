// One background writeback batch: Pool::writeback on the libuv thread pool, then the JS callback
// (err, pagesWritten) on the JS thread. Holds a shared reference to the pool, so a batch queued
// before close() finds the pool shut down (reports 0) instead of freed memory (pool_wrap.h).
#ifndef TMEM_NAPI_WRITEBACK_WORKER_H
#define TMEM_NAPI_WRITEBACK_WORKER_H

#include <napi.h>

#include <cstdint>
#include <memory>

#include "../pool.h"

namespace tmem {

class WritebackWorker final : public Napi::AsyncWorker {
 public:
  WritebackWorker(Napi::Function callback, std::shared_ptr<Pool> pool, uint32_t max_pages)
      : Napi::AsyncWorker(callback, "tmem:writeback"), pool_(std::move(pool)), max_pages_(max_pages) {}

  void Execute() override;
  void OnOK() override;

 private:
  std::shared_ptr<Pool> pool_;
  const uint32_t max_pages_;
  uint32_t written_ = 0;
};

}  // namespace tmem

#endif
