/*
 * A stand-in for the AppImage type-2 runtime, for the integration tests (the real one is
 * not packaged in Debian). What the tests rely on, it does as the real one does: it is an
 * ELF file whose image follows its section header table, with "AI\x02" written at byte 8
 * by the test; run plainly, it mounts its image with FUSE (here: a mount(2) call, which a
 * session refuses as it refuses the setuid fusermount) and fails with the real runtime's
 * message; with APPIMAGE_EXTRACT_AND_RUN=1 it extracts the image with unsquashfs into a
 * temporary directory and runs AppRun.
 *
 *   ldm-appimage-runtime [ARGS...]   (as the first part of an AppImage file)
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ldm/appimage.h"

int
main(int argc, char **argv)
{
	uint8_t head[LDM_APPIMAGE_HEADER_MAX];
	char self[PATH_MAX], dir[] = "/tmp/appimage_extracted_XXXXXX", off[32], apprun[PATH_MAX];
	int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	struct stat st;
	uint64_t offset;
	pid_t pid;
	int status;

	(void)argc;
	if (fd < 0 || fstat(fd, &st) < 0 || pread(fd, head, sizeof(head), 0) != sizeof(head) ||
	    ldm_appimage_payload_offset(head, sizeof(head), (uint64_t)st.st_size, &offset) < 0) {
		fprintf(stderr, "This doesn't look like a squashfs image.\n");
		return 1;
	}
	if (getenv("APPIMAGE_EXTRACT_AND_RUN") == NULL) {
		if (mount("none", "/tmp", "fuse.squashfuse", MS_RDONLY, NULL) < 0) {
			fprintf(stderr,
			        "fuse: mount failed: %s\n"
			        "Cannot mount AppImage, please check your FUSE setup.\n",
			        strerror(errno));
			return 127;
		}
		return 0;
	}
	if (mkdtemp(dir) == NULL)
		return 1;
	(void)snprintf(self, sizeof(self), "/proc/%d/exe", (int)getpid());
	(void)snprintf(off, sizeof(off), "%" PRIu64, offset);
	pid = fork();
	if (pid == 0) {
		execlp("unsquashfs", "unsquashfs", "-no-progress", "-quiet", "-f", "-o", off, "-d",
		       dir, self, (char *)NULL);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0)
		return 1;
	(void)snprintf(apprun, sizeof(apprun), "%s/AppRun", dir);
	execv(apprun, argv);
	return 127;
}
