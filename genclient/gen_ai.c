// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The AI generator: an OpenAI-compatible chat-completions endpoint
 * (llama.cpp server, vLLM, Ollama, ...) over libcurl.  The prompt carries
 * the ISA (from lavm_isa()), the generator ABI and the VM's spec; the
 * program is taken from the reply's first ``` code block.  A rejected
 * program's error goes back into the conversation for the next round.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <curl/curl.h>
#include <json-c/json.h>
#include "gen_internal.h"

/* What each opcode does, for the prompt; names and operands come from lavm_isa(). */
static const char *const meaning[LAVM_NOPCODES] = {
	[LAVM_OP_ADD] = "a = b + c", [LAVM_OP_SUB] = "a = b - c", [LAVM_OP_MOV] = "a = b",
	[LAVM_OP_SETI] = "a = imm", [LAVM_OP_LOAD] = "a = mem[m]", [LAVM_OP_STORE] = "mem[m] = a",
	[LAVM_OP_COPY] = "mem[a] = mem[b]", [LAVM_OP_CLEAR] = "a = 0", [LAVM_OP_NEG] = "a = -b",
	[LAVM_OP_SCALE] = "a = b * imm", [LAVM_OP_MUL] = "a = b * c", [LAVM_OP_DIV] = "a = b / c",
	[LAVM_OP_MOD] = "a = fmodf(b, c)", [LAVM_OP_CMP] = "a = b - c (then branch on a)",
	[LAVM_OP_MIN] = "a = min(b, c)", [LAVM_OP_MAX] = "a = max(b, c)", [LAVM_OP_ABS] = "a = |b|",
	[LAVM_OP_SQRT] = "a = sqrt(b)", [LAVM_OP_SIN] = "a = sin(b)", [LAVM_OP_COS] = "a = cos(b)",
	[LAVM_OP_READ] = "a = shared[b] (b an exact integer index)",
	[LAVM_OP_WRITE] = "shared[a] = b (lands at the end of the epoch)",
	[LAVM_OP_YIELD] = "give up the rest of this epoch", [LAVM_OP_HALT] = "stop; outputs are r0..r3",
	[LAVM_OP_BEQ] = "jump if |a| < 1e-4", [LAVM_OP_BNE] = "jump unless |a| < 1e-4",
	[LAVM_OP_BLT] = "jump if a <= -1e-4", [LAVM_OP_BGT] = "jump if a >= 1e-4",
	[LAVM_OP_BLE] = "jump if a < 1e-4", [LAVM_OP_BGE] = "jump if a > -1e-4",
	[LAVM_OP_JUMP] = "jump", [LAVM_OP_CALL] = "call (saves r1..r3)",
	[LAVM_OP_RETURN] = "return (r0 is the result)",
};

char *gen_isa_table(void)
{
	static const char *const kind[] = { "", "r", "m", "imm", "label" };
	struct gen_buf b = { 0 };

	gen_buf_printf(&b, "mnemonic operands: meaning (r = register r0..r3, m = memory 0..15, "
		       "imm = float, label = target)\n");
	for (uint32_t op = 0; op < LAVM_NOPCODES; op++) {
		const struct lavm_isa *isa = lavm_isa(op);
		char ops[64] = "";
		size_t n = 0;

		if (!isa)
			continue;
		for (int k = 0; k < isa->nops; k++)
			n += snprintf(ops + n, sizeof(ops) - n, "%s%c:%s", k ? ", " : " ", 'a' + k,
				      kind[isa->kind[k] < 5 ? isa->kind[k] : 0]);
		gen_buf_printf(&b, "%s%s: %s%s%s\n", isa->name, ops, meaning[op] ? meaning[op] : "",
			       isa->alias ? "; also written " : "", isa->alias ? isa->alias : "");
	}
	return gen_buf_take(&b);
}

static char *system_prompt(void)
{
	struct gen_buf b = { 0 };
	char *isa = gen_isa_table();

	if (!isa)
		return NULL;
	gen_buf_printf(&b,
		"You write programs for LAVM, a small virtual machine with f32 registers r0..r3, "
		"16 memory words (0..15) and a shared memory.  Assembler syntax: one instruction per "
		"line, 'label:' lines, '#' comments, '.shared N' to declare shared words.  Every "
		"program must end with HALT or JUMP and must never fall off its end.\n\n"
		"Calling convention: input k is in memory word k; inputs 0..3 are also in r0..r3.  "
		"Memory word 14 holds the instance count, word 15 this instance's index.  Outputs "
		"are r0..r3 when the program HALTs.\n\nInstruction set:\n%s\n"
		"Answer with exactly one ```lavm code block holding the whole program.", isa);
	free(isa);
	return gen_buf_take(&b);
}

static char *user_prompt(const struct gen_vm *vm)
{
	struct gen_buf b = { 0 };
	char v[32];

	gen_buf_printf(&b, "Write the LAVM program of VM '%s'.\n", vm->name);
	if (vm->intent)
		gen_buf_printf(&b, "Intent: %s\n", vm->intent);
	if (vm->formula)
		gen_buf_printf(&b, "Formula: %s\n", vm->formula);
	for (uint32_t k = 0; k < vm->ninputs; k++)
		gen_buf_printf(&b, "Input %u: %s (memory word %u%s)\n", k, vm->params[k], k,
			       k < 4 ? (const char *[]){ ", r0", ", r1", ", r2", ", r3" }[k] : "");
	for (uint32_t o = 0; o < vm->noutputs; o++)
		gen_buf_printf(&b, "Output %u: %s (r%u)\n", o, vm->outputs[o], o);
	if (vm->shared_size)
		gen_buf_printf(&b, "Shared memory: %u words.\n", vm->shared_size);
	if (vm->instances > 1)
		gen_buf_printf(&b, "It runs as %u instances.\n", vm->instances);
	for (uint32_t e = 0; e < vm->nexamples && e < 32; e++) {
		const struct gen_example *ex = &vm->examples[e];

		gen_buf_printf(&b, "Example %u:", e);
		for (uint32_t k = 0; k < ex->nin; k++) {
			gen_fmt_float(v, sizeof(v), ex->in[k]);
			gen_buf_printf(&b, " %s=%s", vm->params[k], v);
		}
		for (uint32_t w = 0; w < ex->nshared_in; w++) {
			gen_fmt_float(v, sizeof(v), ex->shared_in[w].value);
			gen_buf_printf(&b, " shared[%u]=%s", ex->shared_in[w].index, v);
		}
		gen_buf_printf(&b, " ->");
		for (uint32_t o = 0; o < ex->nout; o++) {
			gen_fmt_float(v, sizeof(v), ex->out[o]);
			gen_buf_printf(&b, " %s=%s", vm->outputs[o], v);
		}
		for (uint32_t w = 0; w < ex->nshared_out; w++) {
			gen_fmt_float(v, sizeof(v), ex->shared_out[w].value);
			gen_buf_printf(&b, " shared[%u]=%s", ex->shared_out[w].index, v);
		}
		gen_buf_printf(&b, "\n");
	}
	return gen_buf_take(&b);
}

static void add_msg(json_object *msgs, const char *role, const char *content)
{
	json_object *m = json_object_new_object();

	json_object_object_add(m, "role", json_object_new_string(role));
	json_object_object_add(m, "content", json_object_new_string(content));
	json_object_array_add(msgs, m);
}

static size_t on_data(char *ptr, size_t size, size_t nmemb, void *user)
{
	struct gen_buf *b = user;

	if (b->len + size * nmemb > (8u << 20))
		return 0;	/* a reply over 8 MiB is not a program */
	gen_buf_put(b, ptr, size * nmemb);
	return b->oom ? 0 : size * nmemb;
}

/* One request; the reply body in @body.  Returns 0 or -errno with @why set. */
static int post(const struct gen_ai_config *ai, const char *req, struct gen_buf *body,
		long *status, char *why, size_t whylen)
{
	char auth[600], errbuf[CURL_ERROR_SIZE] = "";
	struct curl_slist *hdr = NULL;
	CURLcode rc;
	CURL *c;
	int ret = 0;

	c = curl_easy_init();
	if (!c)
		return -ENOMEM;
	hdr = curl_slist_append(hdr, "Content-Type: application/json");
	if (ai->key && *ai->key) {
		snprintf(auth, sizeof(auth), "Authorization: Bearer %s", ai->key);
		hdr = curl_slist_append(hdr, auth);
	}
	curl_easy_setopt(c, CURLOPT_URL, ai->url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, req);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, body);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)ai->timeout_ms);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)ai->timeout_ms);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	rc = curl_easy_perform(c);
	if (rc != CURLE_OK) {
		switch (rc) {
		case CURLE_COULDNT_CONNECT:
			ret = -ECONNREFUSED;
			break;
		case CURLE_OPERATION_TIMEDOUT:
			ret = -ETIMEDOUT;
			break;
		case CURLE_COULDNT_RESOLVE_HOST:
		case CURLE_COULDNT_RESOLVE_PROXY:
			ret = -EHOSTUNREACH;
			break;
		case CURLE_OUT_OF_MEMORY:
			ret = -ENOMEM;
			break;
		default:
			ret = -EIO;
			break;
		}
		snprintf(why, whylen, "AI endpoint %s unreachable: %s", ai->url,
			 errbuf[0] ? errbuf : curl_easy_strerror(rc));
	} else {
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
	}
	curl_slist_free_all(hdr);
	curl_easy_cleanup(c);
	return ret;
}

/* The reply's first ``` block (language tag skipped), malloc'd, or NULL. */
static char *extract_program(const char *content)
{
	const char *start = strstr(content, "```"), *end;
	char *prog;

	if (!start)
		return NULL;
	start += 3;
	start += strcspn(start, "\n");	/* language tag */
	if (*start)
		start++;
	end = strstr(start, "```");
	if (!end)
		return NULL;
	prog = strndup(start, end - start);
	return prog;
}

int gen_run_ai(struct gen_ctx *ctx)
{
	const struct gen_options *opt = ctx->opt;
	struct gen_ai_config ai = opt->ai;
	json_object *msgs;
	char *sys, *user, why[600];
	uint32_t programs = 0;
	int ret = -ESRCH;

	if (!ai.url)
		ai.url = getenv("HA_AI_URL");
	if (!ai.model)
		ai.model = getenv("HA_AI_MODEL") ? getenv("HA_AI_MODEL") : "default";
	if (!ai.key)
		ai.key = getenv("HA_AI_KEY");
	if (!ai.timeout_ms)
		ai.timeout_ms = getenv("HA_AI_TIMEOUT_MS") ? strtoul(getenv("HA_AI_TIMEOUT_MS"), NULL, 0) : 60000;
	if (!ai.url || !*ai.url) {
		snprintf(ctx->last_fail, sizeof(ctx->last_fail), "no AI endpoint configured (HA_AI_URL)");
		return -EINVAL;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT))
		return -ENOMEM;
	sys = system_prompt();
	user = user_prompt(ctx->vm);
	msgs = json_object_new_array();
	if (!sys || !user || !msgs) {
		free(sys);
		free(user);
		json_object_put(msgs);
		return -ENOMEM;
	}
	add_msg(msgs, "system", sys);
	add_msg(msgs, "user", user);
	free(sys);
	free(user);

	for (uint32_t round = 1; round <= (opt->max_rounds ? opt->max_rounds : 1); round++) {
		struct gen_buf body = { 0 };
		json_object *req = json_object_new_object(), *reply, *v;
		const char *content = NULL;
		char *prog;
		bool had_prog;
		long status = 0;

		if (gen_out_of_time(ctx)) {
			gen_log(ctx, "ai: time budget spent");
			break;
		}
		ctx->rounds++;
		json_object_object_add(req, "model", json_object_new_string(ai.model));
		json_object_object_add(req, "temperature", json_object_new_double(0));
		json_object_object_add(req, "messages", json_object_get(msgs));
		ret = post(&ai, json_object_to_json_string(req), &body, &status, why, sizeof(why));
		json_object_put(req);
		if (ret) {
			gen_buf_free(&body);
			gen_log(ctx, "ai: round %u: %s", round, why);
			snprintf(ctx->last_fail, sizeof(ctx->last_fail), "%s", why);
			break;
		}
		if (status != 200) {
			snprintf(ctx->last_fail, sizeof(ctx->last_fail), "AI endpoint %s answered HTTP %ld: %.200s",
				 ai.url, status, body.s ? body.s : "");
			gen_log(ctx, "ai: round %u: %s", round, ctx->last_fail);
			gen_buf_free(&body);
			ret = -EBADMSG;
			break;
		}
		reply = body.s ? json_tokener_parse(body.s) : NULL;
		if (reply && json_object_object_get_ex(reply, "choices", &v) &&
		    json_object_is_type(v, json_type_array) && json_object_array_length(v) &&
		    json_object_object_get_ex(json_object_array_get_idx(v, 0), "message", &v) &&
		    json_object_object_get_ex(v, "content", &v) && json_object_is_type(v, json_type_string))
			content = json_object_get_string(v);
		if (!content) {
			snprintf(ctx->last_fail, sizeof(ctx->last_fail), "AI endpoint %s returned garbage "
				 "(not a chat-completions reply): %.120s", ai.url, body.s ? body.s : "");
			gen_log(ctx, "ai: round %u: %s", round, ctx->last_fail);
			json_object_put(reply);
			gen_buf_free(&body);
			ret = -EBADMSG;
			break;
		}
		add_msg(msgs, "assistant", content);
		prog = extract_program(content);
		had_prog = prog;
		if (!prog) {
			snprintf(why, sizeof(why), "the reply has no ``` code block with a program");
		} else {
			programs++;
			ret = gen_try_candidate(ctx, prog, strlen(prog), why, sizeof(why));
			free(prog);
		}
		json_object_put(reply);
		gen_buf_free(&body);
		if (ret == -ENOMEM)
			break;
		if (had_prog && !ret) {
			gen_log(ctx, "ai: round %u: accepted (%u instructions)", round, ctx->img.prog.ninsns);
			break;
		}
		ret = -ESRCH;
		gen_log(ctx, "ai: round %u: rejected: %s", round, why);
		snprintf(ctx->last_fail, sizeof(ctx->last_fail), "AI program rejected: %s", why);
		char fb[800];

		snprintf(fb, sizeof(fb), "That program was rejected: %s\nSend the corrected whole "
			 "program in one ```lavm code block.", why);
		add_msg(msgs, "user", fb);
	}
	if (ret == -ESRCH && !programs && ctx->rounds) {
		/* Every reply came without a program: the endpoint is the problem. */
		snprintf(ctx->last_fail, sizeof(ctx->last_fail), "AI endpoint %s returned no program in "
			 "%u round(s) (no ``` code block)", ai.url, ctx->rounds);
		ret = -EBADMSG;
	}
	json_object_put(msgs);
	return ret;
}
