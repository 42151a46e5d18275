/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * genclient - G(spec): from a fabric spec to verified LAVM programs.
 *
 * A spec (JSON, Documentation/genclient.rst, genclient/spec.schema.json)
 * describes a fabric: VMs with an intent (text and/or a formula), an
 * optional source program, input/output examples, an instance count,
 * inputs, quotas, and edges with rights.  gen_generate() produces the
 * program of one VM with one of three generators (formula compiler,
 * example-driven synthesizer, OpenAI-compatible AI endpoint); every
 * candidate is assembled, verified and run on the VM's examples before it
 * is accepted, failures are fed back into the next round, and accepted
 * programs are cached by spec hash.
 *
 * Functions return 0 or a negative errno; the struct gen_error or
 * gen_result->error they fill says why, in one line naming the cause.
 *
 * How a VM's inputs and outputs map onto LAVM state (the "generator ABI",
 * the same for every generator, for the examples and for real runs):
 *   - input k (k < GEN_MAX_INPUTS) is mem[k]; inputs 0..3 are also in
 *     r0..r3 (registers past the last input are +0);
 *   - mem[GEN_MEM_NINST] holds the instance count, mem[GEN_MEM_ID] the
 *     instance index (0 .. instances-1) of the LAVM VM;
 *   - outputs 0..3 are r0..r3 when the VM halts; a VM that faults or does
 *     not halt within its epoch budget fails the example;
 *   - shared memory (gen_vm.shared_size words) is common to all instances
 *     of the VM; examples may set words before the run and check words
 *     after it (reductions write their results there).
 */
#ifndef GENCLIENT_H
#define GENCLIENT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "lavm_host.h"

#define GEN_MAX_INPUTS		12	/* mem0..mem11 */
#define GEN_MAX_OUTPUTS		4	/* r0..r3 */
#define GEN_MEM_NINST		14	/* mem14: instance count */
#define GEN_MEM_ID		15	/* mem15: instance index */
#define GEN_MAX_INSTANCES	4096
#define GEN_MAX_SHARED		65536	/* words of shared memory per VM */
#define GEN_HASH_HEX		65	/* SHA-256 as hex + NUL */

/* Rights on a directed edge; equal to HYPERAETHER_CAP_* in <linux/hyperaether.h>. */
#define GEN_RIGHT_SEND		0x1u
#define GEN_RIGHT_RECV		0x2u
#define GEN_RIGHT_SHARE		0x4u
#define GEN_RIGHT_GRANT		0x8u

/**
 * struct gen_error - why a spec was rejected
 * @code: negative errno (-EINVAL for a bad spec, -ENOENT, -ENOMEM, ...)
 * @path: JSON path of the offending value, e.g. "$.vms[1].examples[0].out"
 *        ("" when the error is not about one value)
 * @msg:  one line, "FILE: PATH: what is wrong" (line:col for JSON syntax)
 */
struct gen_error {
	int code;
	char path[128];
	char msg[512];
};

/**
 * struct gen_word - one shared-memory word
 * @index: word index (< gen_vm.shared_size)
 * @value: its value
 */
struct gen_word {
	uint32_t index;
	float value;
};

/**
 * struct gen_example - one input/output example of a VM
 * @in:         @nin input values (== gen_vm.ninputs), in parameter order
 * @out:        @nout expected outputs (0, or == gen_vm.noutputs); checked
 *              on every instance, bit for bit except that +0 == -0
 * @shared_in:  @nshared_in words set before the run (others start at +0)
 * @shared_out: @nshared_out words checked after the run
 */
struct gen_example {
	float in[GEN_MAX_INPUTS];
	uint32_t nin;
	float out[GEN_MAX_OUTPUTS];
	uint32_t nout;
	struct gen_word *shared_in;
	uint32_t nshared_in;
	struct gen_word *shared_out;
	uint32_t nshared_out;
};

/**
 * struct gen_quota - limits of one VM (zero: the fabric's default);
 * the fields of struct hyperaether_quota that apply to a VM
 * @mem_bytes:   memory the VM may own
 * @epochs:      epoch budget of a run (also bounds each example run)
 * @queue_depth: inbox depth
 */
struct gen_quota {
	uint64_t mem_bytes;
	uint64_t epochs;
	uint32_t queue_depth;
};

/**
 * struct gen_vm - one VM of a spec (all strings NUL-terminated, owned by
 * the spec)
 * @name:       unique within the spec ([A-Za-z_][A-Za-z0-9_-]*)
 * @intent:     natural-language intent, or NULL
 * @formula:    formula in the expression language, or NULL
 * @source:     LAVM assembly given by the author, or NULL
 * @params:     @ninputs input names (formula variables), in ABI order
 * @outputs:    @noutputs output names, in ABI order (r0..r3)
 * @instances:  LAVM instances of this VM (>= 1)
 * @input:      the values of the inputs for the real run (@ninputs)
 * @shared_size: shared-memory words (0: none)
 * @shared_init: @nshared_init words set before the real run
 * @examples:   @nexamples examples (may be 0 for a formula or source VM)
 * @max_epochs: epoch budget of each example run (from quota.epochs, or
 *              the default 100000)
 * @quota:      the VM's quotas
 * @backend:    where the real run goes: GEN_BACKEND_LAVM (the accel
 *              device's LAVM engines, the default) or GEN_BACKEND_KVM (a
 *              KVM guest running the LAVM reference, userspace/kvm)
 */
struct gen_vm {
	char *name;
	char *intent;
	char *formula;
	char *source;
	char *params[GEN_MAX_INPUTS];
	uint32_t ninputs;
	char *outputs[GEN_MAX_OUTPUTS];
	uint32_t noutputs;
	uint32_t instances;
	float input[GEN_MAX_INPUTS];
	uint32_t shared_size;
	struct gen_word *shared_init;
	uint32_t nshared_init;
	struct gen_example *examples;
	uint32_t nexamples;
	uint32_t max_epochs;
	struct gen_quota quota;
	uint32_t backend;
};

/* struct gen_vm.backend, from the spec's "backend": "lavm" | "kvm" */
#define GEN_BACKEND_LAVM	0
#define GEN_BACKEND_KVM		1

/**
 * struct gen_edge - a directed edge of the fabric
 * @src:    index into gen_spec.vms
 * @dst:    index into gen_spec.vms
 * @rights: GEN_RIGHT_* mask (what src may do with dst), non-zero
 */
struct gen_edge {
	uint32_t src;
	uint32_t dst;
	uint32_t rights;
};

/**
 * struct gen_spec - a parsed and validated fabric spec
 * @name:   the fabric's name
 * @path:   file it was read from ("<string>" for gen_spec_parse())
 * @vms:    @nvms VMs (>= 1)
 * @edges:  @nedges edges
 * @quota:  fabric-wide quotas
 * @max_vms: the fabric's VM limit from quota.max_vms, or 0 (not given)
 */
struct gen_spec {
	char *name;
	char *path;
	struct gen_vm *vms;
	uint32_t nvms;
	struct gen_edge *edges;
	uint32_t nedges;
	struct gen_quota quota;
	uint32_t max_vms;
};

/**
 * gen_spec_parse() - parse and validate a spec from memory
 * @json: the JSON text (need not be NUL-terminated)
 * @len:  its length
 * @path: name used in messages (NULL: "<string>")
 * @out:  Out: the spec, freed with gen_spec_free()
 * @err:  Out: on failure, the cause and the JSON path
 *
 * Validation covers types, ranges, unknown fields, duplicate VM names,
 * edges naming unknown VMs, example arity, and contradictory examples
 * (same inputs, different outputs).  Formulas are parsed here too, so a
 * formula syntax error is reported with its line:col.
 *
 * Return: 0, -EINVAL for a bad spec, -ENOMEM.
 */
int gen_spec_parse(const char *json, size_t len, const char *path,
		   struct gen_spec **out, struct gen_error *err);

/**
 * gen_spec_load() - read and parse a spec file
 * @path: the file
 * @out:  Out: the spec
 * @err:  Out: on failure, the cause
 *
 * Return: 0, -errno of open/read, or as gen_spec_parse().
 */
int gen_spec_load(const char *path, struct gen_spec **out, struct gen_error *err);

/** gen_spec_free() - free a spec (NULL is fine) */
void gen_spec_free(struct gen_spec *spec);

/**
 * gen_spec_find_vm() - index of the VM named @name
 * Return: the index, or -ENOENT.
 */
int gen_spec_find_vm(const struct gen_spec *spec, const char *name);

/**
 * gen_vm_hash() - SHA-256 of the canonical form of one VM's spec
 * @vm:  the VM
 * @hex: Out: 64 lowercase hex digits
 *
 * The canonical form covers everything that decides the program (intent,
 * formula, source, params, outputs, instances, shared size, examples) and
 * nothing else (not the name, quotas or run inputs), so two VMs that
 * must get the same program hash alike.
 *
 * Return: 0 or -ENOMEM.
 */
int gen_vm_hash(const struct gen_vm *vm, char hex[GEN_HASH_HEX]);

/* ------------------------------------------------------------ generators */

/**
 * enum gen_generator - who finds the program
 * @GEN_AUTO:     source if given, else the compiler for a formula, else
 *                the synthesizer for examples, else the AI endpoint if
 *                configured
 * @GEN_SOURCE:   the spec's own source program (assembled, checked)
 * @GEN_COMPILER: formula compiler
 * @GEN_SYNTH:    enumerative + stochastic search from the examples alone
 * @GEN_AI:       OpenAI-compatible chat-completions endpoint
 */
enum gen_generator {
	GEN_AUTO = 0,
	GEN_SOURCE,
	GEN_COMPILER,
	GEN_SYNTH,
	GEN_AI,
	GEN_NGENERATORS,
};

/** gen_generator_name() - "auto", "source", "compiler", "synth", "ai" */
const char *gen_generator_name(enum gen_generator g);
/** gen_generator_parse() - the inverse; Return: 0 or -EINVAL */
int gen_generator_parse(const char *name, enum gen_generator *g);

/**
 * struct gen_ai_config - the AI endpoint (NULL fields: from the environment)
 * @url:        chat-completions URL, e.g. http://127.0.0.1:8080/v1/chat/completions
 *              (env HA_AI_URL)
 * @model:      model name (env HA_AI_MODEL; default "default")
 * @key:        bearer token, or NULL for none (env HA_AI_KEY)
 * @timeout_ms: per request (env HA_AI_TIMEOUT_MS; default 60000)
 */
struct gen_ai_config {
	const char *url;
	const char *model;
	const char *key;
	uint32_t timeout_ms;
};

/**
 * struct gen_options - how to generate (gen_options_init() sets defaults)
 * @generator:      which generator (GEN_AUTO)
 * @seed:           seed of the stochastic search (1); same seed, same result
 * @max_rounds:     feedback rounds: AI requests, synthesizer restarts (4)
 * @max_candidates: synthesizer: candidate programs evaluated in all (2e6)
 * @time_budget_ms: wall-clock budget of one gen_generate() call (20000)
 * @cache_dir:      NULL: gen_cache_dir(); "": no cache
 * @ai:             the AI endpoint
 * @log:            per-round progress lines, or NULL
 */
struct gen_options {
	enum gen_generator generator;
	uint64_t seed;
	uint32_t max_rounds;
	uint64_t max_candidates;
	uint32_t time_budget_ms;
	const char *cache_dir;
	struct gen_ai_config ai;
	FILE *log;
};

void gen_options_init(struct gen_options *opt);

/**
 * struct gen_result - a generated program and how it was found
 * @image:       the program (verified), usable with lavm_job_alloc()
 * @asm_text:    assembler text (NUL-terminated) that assembles to @image
 * @bundle:      the .lavm bundle bytes (@bundle_len)
 * @generator:   the generator that found it (never GEN_AUTO)
 * @rounds:      feedback rounds used (1 = first attempt accepted)
 * @candidates:  candidate programs tried (assembled/evaluated) in all
 * @t_ai_ns:     generation time, T_AI (0 when served from the cache)
 * @from_cache:  served from the cache (generator etc. as first found)
 * @spec_hash:   gen_vm_hash() of the VM
 * @cache_path:  the bundle's cache file ("" without a cache)
 * @examples_passed: examples the program passes (== the VM's nexamples)
 * @report:      what happened, one line per round (NUL-terminated)
 * @error:       on failure, one line with the cause
 */
struct gen_result {
	struct lavm_image image;
	char *asm_text;
	uint8_t *bundle;
	size_t bundle_len;
	enum gen_generator generator;
	uint32_t rounds;
	uint64_t candidates;
	uint64_t t_ai_ns;
	bool from_cache;
	char spec_hash[GEN_HASH_HEX];
	char cache_path[512];
	uint32_t examples_passed;
	char *report;
	char error[512];
};

/**
 * gen_generate() - find, verify, check and cache the program of one VM
 * @spec: the spec
 * @vm:   index of the VM in @spec
 * @opt:  options (NULL: defaults)
 * @res:  Out: the result; free with gen_result_free() whatever the return
 *
 * Return: 0; -EINVAL when the chosen generator cannot apply (no formula
 * for the compiler, no examples for the synthesizer, ...); -ESRCH when no
 * accepted program was found within the rounds/candidates/time budget
 * (res->error: "did not converge after N rounds: <last failure>");
 * -ECONNREFUSED, -EHOSTUNREACH, -ETIMEDOUT when the AI endpoint cannot be
 * reached; -EBADMSG when it answers without a usable program; -ENOMEM.
 */
int gen_generate(const struct gen_spec *spec, uint32_t vm,
		 const struct gen_options *opt, struct gen_result *res);

void gen_result_free(struct gen_result *res);

/**
 * gen_result_write_json() - the result as one JSON object
 * (vm, generator, rounds, candidates, t_ai_ms, from_cache, spec_hash,
 * cache_path, ninsns, examples, asm, report)
 */
void gen_result_write_json(FILE *out, const struct gen_vm *vm,
			   const struct gen_result *res);

/* ------------------------------------------------------------ running */

/**
 * gen_job_setup() - a LAVM job for one VM, its state set by the ABI above
 * @vm:   the VM
 * @prog: its (verified) program
 * @ex:   an example to set inputs and shared words from, or NULL for the
 *        VM's real-run inputs (gen_vm.input, gen_vm.shared_init)
 * @job:  Out: vm->instances VMs; free with lavm_job_free()
 *
 * Return: 0, -ENOMEM.
 */
int gen_job_setup(const struct gen_vm *vm, const struct lavm_prog *prog,
		  const struct gen_example *ex, struct lavm_job *job);

/**
 * gen_check_example() - run @prog on one example (reference interpreter)
 * @vm:   the VM
 * @prog: the verified program
 * @ex:   the example
 * @why:  Out: on failure, one line (e.g. "example 2: instance 0: r0 = 5,
 *        expected 6" or "... faulted: shared_addr at insn 7"); may be NULL
 * @whylen: size of @why
 *
 * Return: true if every instance halts with the expected outputs and
 * every checked shared word matches.
 */
bool gen_check_example(const struct gen_vm *vm, const struct lavm_prog *prog,
		       const struct gen_example *ex, char *why, size_t whylen);

/**
 * gen_check_examples() - gen_check_example() over all examples
 * Return: the number passed (== vm->nexamples when all pass); @why holds
 * the first failure.
 */
uint32_t gen_check_examples(const struct gen_vm *vm, const struct lavm_prog *prog,
			    char *why, size_t whylen);

/* ------------------------------------------------------------ cache */

/**
 * gen_cache_dir() - the cache directory: $HA_GEN_CACHE, else
 * $XDG_CACHE_HOME/hyperaether/gen, else ~/.cache/hyperaether/gen
 * Return: 0, or -ENAMETOOLONG / -ENOENT (no HOME).
 */
int gen_cache_dir(char *buf, size_t len);

/* ------------------------------------------------------------ formulas */

/**
 * gen_formula_compile() - compile a formula to LAVM assembly
 * @vm:      the VM (params, outputs, shared size give the names)
 * @asm_out: Out: malloc'd assembler text
 * @err:     Out: on failure, "formula:LINE:COL: message"
 *
 * Return: 0, -EINVAL (syntax or name error), -E2BIG (needs more than
 * the spill slots), -ENOMEM.
 */
int gen_formula_compile(const struct gen_vm *vm, char **asm_out, struct gen_error *err);

/**
 * gen_isa_table() - the ISA as a text table (one line per opcode:
 * mnemonic, operands, meaning), as put into AI prompts; malloc'd
 */
char *gen_isa_table(void);

#endif /* GENCLIENT_H */
