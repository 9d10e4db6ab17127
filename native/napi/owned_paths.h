// Files and directories the JS side created (swap files, private temp dirs) and must not leave
// behind when the environment that created them goes away without cleaning up: a worker thread
// ended with worker.terminate() runs no more JavaScript, so only an environment cleanup hook can
// remove them. See owned_paths.cc.
#ifndef TMEM_NAPI_OWNED_PATHS_H
#define TMEM_NAPI_OWNED_PATHS_H

#include <napi.h>

namespace tmem {

// Adds ownPath(path, fd, isDirectory) → id and disownPath(id) to `exports`, and registers the
// environment cleanup hook that removes what is still owned. Call from Init before anything
// else registers a cleanup hook: hooks run in reverse order, so this one runs after every pool
// has stopped writing to the files.
void DefineOwnedPaths(Napi::Env env, Napi::Object exports);

}  // namespace tmem

#endif
