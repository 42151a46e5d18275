/* SPDX-License-Identifier: GPL-2.0 */
/*
 * hyperaetherd's protocol (Documentation/hyperaetherd.rst): newline-
 * delimited JSON over a UNIX stream socket.  A request is one JSON object
 * on one line ({"op": "run", "spec": {...}}, "stats", "fabrics", "ping"),
 * the reply one JSON object on one line with "ok".  At most
 * HA_PROTO_MAX_LINE bytes per line.
 */
#ifndef HA_PROTOCOL_H
#define HA_PROTOCOL_H

#include <stddef.h>
#include <json-c/json.h>

#define HA_PROTO_MAX_LINE	(4u << 20)
#define HA_SOCKET_NAME		"hyperaetherd.sock"
#define HA_SYSTEM_SOCKET	"/run/hyperaetherd/" HA_SOCKET_NAME

/*
 * The daemon's default socket: $RUNTIME_DIRECTORY (systemd) or, for root,
 * /run/hyperaetherd, else $XDG_RUNTIME_DIR, else /tmp/hyperaetherd-UID.
 */
int ha_daemon_socket_default(char *buf, size_t len);

/*
 * The socket a client should use: @explicit, $HYPERAETHERD_SOCKET, the
 * system socket, the user's; returns 0 when one exists, -ENOENT if none.
 */
int ha_client_socket_find(const char *explicit_path, char *buf, size_t len);

/*
 * One request and its reply on @path.  Return 0 with *@reply set, or
 * -errno with @err (one line) set.
 */
int ha_client_request(const char *path, struct json_object *req,
		      struct json_object **reply, char *err, size_t errlen);

#endif /* HA_PROTOCOL_H */
