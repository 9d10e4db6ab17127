// The AsyncWorker behind pool.writeback(maxPages, cb) (writeback_worker.h). Its own file because
// it is the addon's only code that runs on another thread, and its callback must survive an
// environment being torn down.
#include "writeback_worker.h"

namespace tmem {

void WritebackWorker::Execute() { written_ = pool_->writeback(max_pages_); }

// Plain N-API calls whose failures are ignored: while the environment is being torn down (a
// worker exiting with batches queued) JS cannot run, and node-addon-api's wrappers would turn
// the failed call into a fatal error. An exception thrown by the callback stays pending and
// surfaces as an uncaught exception, as for any other callback.
void WritebackWorker::OnOK() {
  napi_env env = Env();
  napi_value fn, recv, argv[2];
  if (napi_get_reference_value(env, Callback(), &fn) != napi_ok || fn == nullptr ||
      napi_get_undefined(env, &recv) != napi_ok || napi_get_null(env, &argv[0]) != napi_ok ||
      napi_create_uint32(env, written_, &argv[1]) != napi_ok) {
    return;
  }
  napi_call_function(env, recv, fn, 2, argv, nullptr);
}

}  // namespace tmem
