#include "CZarrSystem.h"

#include <errno.h>
#include <fcntl.h>

#if defined(__linux__)
#include <linux/openat2.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

int czarr_open_beneath(int directory, const char *path) {
#if defined(__linux__) && defined(SYS_openat2)
  struct open_how how;
  memset(&how, 0, sizeof how);
  how.flags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
  long fd;
  do {
    fd = syscall(SYS_openat2, directory, path, &how, sizeof how);
  } while (fd < 0 && errno == EINTR);
  return (int)fd;
#else
  (void)directory;
  (void)path;
  errno = ENOSYS;
  return -1;
#endif
}
