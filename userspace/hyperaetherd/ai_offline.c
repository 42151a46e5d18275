// SPDX-License-Identifier: GPL-2.0
/*
 * libcurl for the static builds (the test initramfs has no network and
 * Debian ships no static libcurl dependencies): every transfer fails
 * to start, so genclient's AI generator reports the endpoint as
 * unusable and the built-in generators, the default, do the work.
 */
#define CURL_DISABLE_TYPECHECK
#include <curl/curl.h>
#include <stddef.h>

CURLcode (curl_global_init)(long flags)
{
	(void)flags;
	return CURLE_FAILED_INIT;
}

CURL *(curl_easy_init)(void)
{
	return NULL;
}

CURLcode (curl_easy_setopt)(CURL *curl, CURLoption option, ...)
{
	(void)curl;
	(void)option;
	return CURLE_FAILED_INIT;
}

CURLcode (curl_easy_perform)(CURL *curl)
{
	(void)curl;
	return CURLE_FAILED_INIT;
}

CURLcode (curl_easy_getinfo)(CURL *curl, CURLINFO info, ...)
{
	(void)curl;
	(void)info;
	return CURLE_FAILED_INIT;
}

void (curl_easy_cleanup)(CURL *curl)
{
	(void)curl;
}

const char *(curl_easy_strerror)(CURLcode code)
{
	(void)code;
	return "no libcurl in this static build";
}

struct curl_slist *(curl_slist_append)(struct curl_slist *list, const char *s)
{
	(void)s;
	return list;
}

void (curl_slist_free_all)(struct curl_slist *list)
{
	(void)list;
}
