// ownPath(path, fd, isDirectory) → id, disownPath(id), and the environment cleanup hook that
// removes whatever is still owned when the environment goes away.
//
// The JS side (lib/util/owned-paths.ts) owns the lifetime: it registers a swap file right after
// creating it (O_EXCL) and a private directory right after mkdtemp, removes them itself on
// swapoff/close or at process 'exit', and then disowns them here. The hook only catches what
// JavaScript never got to: a worker ended by worker.terminate() runs no more JS, not even 'exit'
// listeners. For each entry still registered it removes
//  - a file: truncated through its fd first (so no swapped data survives in another link to the
//    inode), unlinked only if the path still names the inode registered (the identity comes from
//    the fd at registration), then the fd is closed;
//  - a directory: rmdir'd only if the path still names the directory registered; rmdir fails
//    on a directory that is not empty, so nothing that was put there by someone else goes.
// Files are handled before directories, so a private directory is empty by the time it is tried.
//
// Races: the identity check (lstat) and the removal are two system calls on a path; someone who
// can replace the entry between them can write the directory anyway, and the fd-based
// truncation has already emptied our file by then. The hook is registered before any pool's
// (native/napi/pool_wrap.cc registers one per pool): cleanup hooks run in reverse order of
// registration, so every pool has stopped its writeback into these files when this one runs.
#include "owned_paths.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <string>

#include "args.h"

namespace tmem {

namespace {

struct Owned {
  std::string path;
  int fd;  // -1 for a directory
  bool directory;
  dev_t dev;
  ino_t ino;
};

struct OwnedPaths {
  uint32_t next_id = 1;
  std::map<uint32_t, Owned> entries;
};

bool StillOurs(const Owned& o) {
  struct stat st;
  if (lstat(o.path.c_str(), &st) != 0) return false;
  return st.st_dev == o.dev && st.st_ino == o.ino && S_ISDIR(st.st_mode) == o.directory;
}

void RemoveAll(void* arg) {
  OwnedPaths* owned = static_cast<OwnedPaths*>(arg);
  for (const auto& [id, o] : owned->entries) {
    if (o.directory) continue;
    // Best effort, like everything here: there is nobody left to report a failure to.
    int truncated = ftruncate(o.fd, 0);
    (void)truncated;
    if (StillOurs(o)) unlink(o.path.c_str());
    close(o.fd);
  }
  for (const auto& [id, o] : owned->entries) {
    if (o.directory && StillOurs(o)) rmdir(o.path.c_str());
  }
  delete owned;
}

Napi::Value OwnPath(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  OwnedPaths* owned = static_cast<OwnedPaths*>(info.Data());
  if (!info[0].IsString()) {
    ThrowTypeError(env, "The \"path\" argument must be a string");
    return Napi::Value();
  }
  double fd;
  bool directory;
  if (!ArgInteger(info, 1, "fd", -1, INT32_MAX, &fd) || !ArgBool(info, 2, "isDirectory", &directory)) {
    return Napi::Value();
  }
  if (directory != (fd < 0)) {
    ThrowRangeError(env, "ERR_OUT_OF_RANGE", "a directory is registered without an fd, a file with one");
    return Napi::Value();
  }
  Owned o{info[0].As<Napi::String>().Utf8Value(), static_cast<int>(fd), directory, 0, 0};
  struct stat st;
  int rc = directory ? lstat(o.path.c_str(), &st) : fstat(o.fd, &st);
  if (rc != 0 || S_ISDIR(st.st_mode) != directory) {
    std::string msg = "tmem: cannot register " + o.path + ": " + (rc != 0 ? std::strerror(errno) : "wrong file type");
    napi_throw_error(env, "ERR_TMEM_IO", msg.c_str());
    return Napi::Value();
  }
  o.dev = st.st_dev;
  o.ino = st.st_ino;
  uint32_t id = owned->next_id++;
  owned->entries.emplace(id, std::move(o));
  return Napi::Number::New(env, id);
}

Napi::Value DisownPath(const Napi::CallbackInfo& info) {
  OwnedPaths* owned = static_cast<OwnedPaths*>(info.Data());
  uint32_t id;
  if (!ArgU32(info, 0, "id", UINT32_MAX, &id)) return Napi::Value();
  owned->entries.erase(id);
  return info.Env().Undefined();
}

}  // namespace

void DefineOwnedPaths(Napi::Env env, Napi::Object exports) {
  OwnedPaths* owned = new OwnedPaths();
  if (napi_add_env_cleanup_hook(env, RemoveAll, owned) != napi_ok) {
    delete owned;
    return;  // ownPath stays undefined: the JS side then relies on its 'exit' listener alone
  }
  exports.Set("ownPath", Napi::Function::New(env, OwnPath, "ownPath", owned));
  exports.Set("disownPath", Napi::Function::New(env, DisownPath, "disownPath", owned));
}

}  // namespace tmem
