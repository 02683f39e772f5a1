/*
 * Replays fuzz corpora without libFuzzer: each argument is a file or a directory of files,
 * fed one by one to LLVMFuzzerTestOneInput. Crashes show up under the sanitizers of the
 * build (make check SANITIZE=1).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REPLAY_MAX (2 * 1024 * 1024)

static int
replay_file(int dirfd, const char *name)
{
	static uint8_t buf[REPLAY_MAX];
	size_t len = 0;
	ssize_t n;
	int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		fprintf(stderr, "replay: %s: %s\n", name, strerror(errno));
		return -1;
	}
	while (len < sizeof(buf) && (n = read(fd, buf + len, sizeof(buf) - len)) > 0)
		len += (size_t)n;
	close(fd);
	LLVMFuzzerTestOneInput(buf, len);
	return 0;
}

static int
replay_dir(const char *path, unsigned *count)
{
	DIR *d = opendir(path);
	struct dirent *e;
	int rc = 0;

	if (d == NULL)
		return replay_file(AT_FDCWD, path) == 0 ? (++*count, 0) : -1;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		if (replay_file(dirfd(d), e->d_name) < 0)
			rc = -1;
		else
			++*count;
	}
	closedir(d);
	return rc;
}

int
main(int argc, char **argv)
{
	unsigned count = 0;
	int rc = 0;

	for (int i = 1; i < argc; i++)
		if (replay_dir(argv[i], &count) < 0)
			rc = 1;
	printf("replay: %u inputs, %s\n", count, rc == 0 ? "no crash" : "errors");
	return rc;
}
