// SPDX-License-Identifier: GPL-2.0
/* hyperaetherd's protocol: socket paths and the client side; see protocol.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "protocol.h"

int ha_daemon_socket_default(char *buf, size_t len)
{
	const char *dir = getenv("RUNTIME_DIRECTORY");
	int n;

	if (dir && *dir)
		n = snprintf(buf, len, "%s/%s", dir, HA_SOCKET_NAME);
	else if (!geteuid())
		n = snprintf(buf, len, "%s", HA_SYSTEM_SOCKET);
	else if ((dir = getenv("XDG_RUNTIME_DIR")) && *dir)
		n = snprintf(buf, len, "%s/%s", dir, HA_SOCKET_NAME);
	else
		n = snprintf(buf, len, "/tmp/hyperaetherd-%u.sock", (unsigned int)getuid());
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

static int is_socket(const char *path)
{
	struct stat st;

	return !stat(path, &st) && S_ISSOCK(st.st_mode);
}

int ha_client_socket_find(const char *explicit_path, char *buf, size_t len)
{
	const char *env = getenv("HYPERAETHERD_SOCKET"), *xdg = getenv("XDG_RUNTIME_DIR");

	if (explicit_path) {
		snprintf(buf, len, "%s", explicit_path);
		return is_socket(buf) ? 0 : -ENOENT;
	}
	if (env && *env) {
		snprintf(buf, len, "%s", env);
		return is_socket(buf) ? 0 : -ENOENT;
	}
	snprintf(buf, len, "%s", HA_SYSTEM_SOCKET);
	if (is_socket(buf))
		return 0;
	if (xdg && *xdg) {
		snprintf(buf, len, "%s/%s", xdg, HA_SOCKET_NAME);
		if (is_socket(buf))
			return 0;
	}
	snprintf(buf, len, "/tmp/hyperaetherd-%u.sock", (unsigned int)getuid());
	return is_socket(buf) ? 0 : -ENOENT;
}

static int write_all(int fd, const char *p, size_t len)
{
	while (len) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int ha_client_request(const char *path, struct json_object *req,
		      struct json_object **reply, char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t cap = 65536, len = 0;
	const char *text;
	char *buf = NULL;
	int fd, ret;

	*reply = NULL;
	if (strlen(path) >= sizeof(sa.sun_path)) {
		snprintf(err, errlen, "%s: socket path too long", path);
		return -ENAMETOOLONG;
	}
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		ret = -errno;
		snprintf(err, errlen, "cannot connect to hyperaetherd at %s: %s", path, strerror(-ret));
		goto out;
	}
	text = json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN);
	ret = write_all(fd, text, strlen(text));
	if (!ret)
		ret = write_all(fd, "\n", 1);
	if (ret) {
		snprintf(err, errlen, "hyperaetherd at %s: send: %s", path, strerror(-ret));
		goto out;
	}
	buf = malloc(cap);
	for (;;) {
		ssize_t n;

		if (!buf) {
			ret = -ENOMEM;
			snprintf(err, errlen, "out of memory");
			goto out;
		}
		if (len + 1 >= cap) {
			char *nb = cap >= HA_PROTO_MAX_LINE ? NULL : realloc(buf, cap * 2);

			if (!nb) {
				ret = -EMSGSIZE;
				snprintf(err, errlen, "hyperaetherd at %s: reply too long", path);
				goto out;
			}
			buf = nb;
			cap *= 2;
		}
		n = recv(fd, buf + len, cap - len - 1, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			ret = n < 0 ? -errno : -ECONNRESET;
			snprintf(err, errlen, "hyperaetherd at %s: connection closed before a reply%s%s",
				 path, n < 0 ? ": " : "", n < 0 ? strerror(errno) : "");
			goto out;
		}
		len += (size_t)n;
		if (memchr(buf + len - n, '\n', (size_t)n))
			break;
	}
	buf[len] = '\0';
	*reply = json_tokener_parse(buf);
	ret = *reply ? 0 : -EBADMSG;
	if (ret)
		snprintf(err, errlen, "hyperaetherd at %s: reply is not JSON", path);
out:
	free(buf);
	if (fd >= 0)
		close(fd);
	return ret;
}
