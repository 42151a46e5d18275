// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Assembler diagnostics (the seed's own mistakes first), bundle round trips
 * and corruption, disassembly round trips, and the CLI's exit statuses.
 */
#include <errno.h>
#include <sys/wait.h>
#include <unistd.h>
#include "lavm_tap.h"

static char *diag_of(const char *src, int *ret)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct lavm_image img;

	*ret = lavm_assemble("prog.lasm", src, strlen(src), &img, f);
	fclose(f);
	if (!*ret)
		lavm_image_free(&img);
	return buf;
}

static void expect_error(const char *name, const char *src, const char *where, const char *msg)
{
	int ret;
	char *d = diag_of(src, &ret);
	char want[256];

	snprintf(want, sizeof(want), "prog.lasm:%s: error: ", where);
	tap_ok(ret == -EINVAL && strstr(d, want) && strstr(d, msg) && strstr(d, ": hint: "),
	       "%s: '%s ... %s' with a hint (got: %.*s)", name, want, msg,
	       (int)strcspn(d, "\n"), d);
	free(d);
}

static void test_diagnostics(void)
{
	/* the seed's mistakes */
	expect_error("seed loop: ADD r0, r0, 1", "SETI r0, 0\n  ADD r0, r0, 1\nHALT\n", "2:15",
		     "operand 3 of ADD must be a register, not the constant '1'");
	expect_error("seed nested loops: MUL r4", "MUL r4, r0, r2\nHALT\n", "1:5", "no register 'r4'");
	expect_error("seed jump table: CMP r0, 0", "CMP r0, 0\nHALT\n", "1:1", "CMP takes 3 operands, got 2");
	expect_error("seed shared memory: no HALT at the end",
		     "SETI r1, 1000\nSYSCALL_READ r0, r1\n", "2:1",
		     "execution can fall off the end of the program");
	/* and the rest */
	expect_error("unknown instruction", "ADDD r0, r1, r2\nHALT\n", "1:1", "unknown instruction 'ADDD'");
	expect_error("undefined label", "JUMP nowhere\n", "1:6", "undefined label 'nowhere'");
	expect_error("duplicate label", "a: HALT\na: HALT\n", "2:1", "label 'a' defined twice");
	expect_error("memory address 16", "LOAD r0, 16\nHALT\n", "1:10", "VM memory address 0..15");
	expect_error("bad immediate", "SETI r0, one\nHALT\n", "1:10", "must be a number");
	expect_error("recursion", "f: CALL f\nRETURN\n", "1:4", "call depth not bounded");
	expect_error("too deep for .stack", ".stack 1\nCALL f\nHALT\nf: CALL g\nRETURN\ng: RETURN\n",
		     "2:1", "call depth not bounded");
	expect_error("empty program", "# nothing\n", "1:1", "empty program");
	expect_error("unknown directive", ".entry 3\nHALT\n", "1:1", "unknown directive");
	expect_error("too many operands", "HALT r0\n", "1:1", "SYSCALL_HALT takes 0 operands");
	/* libFuzzer crash 38bd6a59: the call-depth walk ran before the verifier
	 * and followed a branch target past the end of the program */
	expect_error("branch target past the end", "SUB r3, r3, r2\n\tBRANCH_GT r3,7\n", "2:1",
		     "target outside the program");

	int ret;
	char *d = diag_of("# the seed's syntax\nLOOP_START:   # label alone\n\tsetI r1, -2.5e-1 # lower case\n"
			  "\tyield\nlbl: halt\n", &ret);

	tap_ok(ret == 0 && !*d, "labels, comments, case, YIELD and HALT aliases assemble");
	free(d);
}

static bool same_prog(const struct lavm_prog *a, const struct lavm_prog *b)
{
	return a->ninsns == b->ninsns && a->nlinear == b->nlinear &&
	       a->max_call_depth == b->max_call_depth && a->shared_size == b->shared_size &&
	       !memcmp(a->insns, b->insns, a->ninsns * sizeof(*a->insns)) &&
	       !memcmp(a->matrices, b->matrices, (size_t)a->nlinear * LAVM_MAT * 4);
}

static void test_bundle(void)
{
	const char *src = ".shared 3\nSETI r1, nan:0x7fc00abc\nSCALE r2, r1, -0.0\nCALL f\n"
			  "SYSCALL_WRITE r0, r2\nHALT\nf: SETI r0, 1e-45\nRETURN\n";
	struct lavm_image img, back, re;
	struct lavm_bundle_info info;
	size_t len;
	uint8_t *buf;
	bool all_fail = true, trunc_fail = true;

	if (assemble_str(src, &img))
		abort();
	len = lavm_bundle_size(&img.prog);
	buf = malloc(len + 1);
	tap_ok(lavm_bundle_write(&img.prog, buf, len) == (long)len, "bundle written (%zu bytes)", len);
	tap_ok(lavm_bundle_write(&img.prog, buf, len - 1) == LAVM_E_SHORT, "short buffer refused");
	back.insns = calloc(img.prog.ninsns, sizeof(*back.insns));
	back.matrices = calloc((size_t)img.prog.nlinear * LAVM_MAT, 4);
	back.lines = NULL;
	tap_ok(!lavm_bundle_load(buf, len, &back.prog, back.insns, img.prog.ninsns, back.matrices,
				 (size_t)img.prog.nlinear * LAVM_MAT) && same_prog(&img.prog, &back.prog),
	       "bundle loads back to the same program (NaN payloads, -0, denormals kept)");
	/* every single-bit flip is caught by a checksum or a header check */
	for (size_t i = 0; i < len; i++) {
		for (int bit = 0; bit < 8; bit += 3) {
			buf[i] ^= 1u << bit;
			if (!lavm_bundle_peek(buf, len, &info))
				all_fail = false;
			buf[i] ^= 1u << bit;
		}
	}
	tap_ok(all_fail, "every bit flip in the bundle is rejected");
	for (size_t l = 0; l < len; l++)
		if (!lavm_bundle_peek(buf, l, &info))
			trunc_fail = false;
	tap_ok(trunc_fail, "every truncation is rejected");
	buf[len] = 0;
	tap_ok(lavm_bundle_peek(buf, len + 1, &info) == LAVM_E_HEADER, "trailing bytes rejected");
	tap_ok(!lavm_bundle_peek(buf, len, &info) && info.ninsns == 7 && info.nlinear == 3 &&
	       info.max_call_depth == 1 && info.shared_size == 3, "header fields read back");

	/* disassembly assembles back to the same program */
	char *text = NULL;
	size_t tlen = 0;
	FILE *f = open_memstream(&text, &tlen);

	lavm_disassemble(&img.prog, f);
	fclose(f);
	tap_ok(!lavm_assemble("disasm", text, tlen, &re, stderr) && same_prog(&img.prog, &re.prog),
	       "disassembly reassembles to the same program");
	lavm_image_free(&re);
	free(text);
	free(back.insns);
	free(back.matrices);
	free(buf);
	lavm_image_free(&img);
}

static int sh(const char *cmd)
{
	int st = system(cmd);

	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void test_cli(const char *cli)
{
	char cmd[1024];
	FILE *f;

	f = fopen("/tmp/lavm_asm_test_bad.lasm", "w");
	fputs("SETI r0, 0\nADD r0, r0, 1\n", f);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "%s asm /tmp/lavm_asm_test_bad.lasm -o /tmp/lavm_asm_test.lavm "
		 "2>/tmp/lavm_asm_test.err", cli);
	tap_ok(sh(cmd) == 1, "lavm asm on the seed's ADD r0, r0, 1 exits 1");
	snprintf(cmd, sizeof(cmd), "grep -q '^/tmp/lavm_asm_test_bad.lasm:2:13: error: operand 3 of ADD' "
		 "/tmp/lavm_asm_test.err && grep -q ': hint: ' /tmp/lavm_asm_test.err");
	tap_ok(sh(cmd) == 0, "... and prints file:line:col: error: and a hint");
	snprintf(cmd, sizeof(cmd), "%s asm lavm/examples/function_call.lasm -o /tmp/lavm_asm_test.lavm && "
		 "%s verify /tmp/lavm_asm_test.lavm >/dev/null && %s disasm /tmp/lavm_asm_test.lavm | "
		 "grep -q 'MUL r0, r0, r1'", cli, cli, cli);
	tap_ok(sh(cmd) == 0, "lavm asm, verify and disasm on a bundle");
	snprintf(cmd, sizeof(cmd), "printf 'garbage' > /tmp/lavm_asm_test.lavm; printf 'LAVM\\r\\n\\032\\nxx' "
		 ">> /tmp/lavm_asm_test2.lavm; %s verify /tmp/lavm_asm_test2.lavm 2>/dev/null", cli);
	tap_ok(sh(cmd) == 1, "lavm verify rejects a corrupt bundle with status 1");
	f = fopen("/tmp/lavm_asm_test_init.json", "w");
	fputs("[{\"r\": [1.5, \"inf\"], \"mem\": [0, 0, 0, 7]}, {\"ip\": 3, \"status\": \"running\"}]", f);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "%s run lavm/examples/yield.lasm --vms 2 --engine cpu --json "
		 "--init /tmp/lavm_asm_test_init.json | tr -d ' \\n' | grep -q "
		 "'\"ip\":3,\"r\":\\[2.5,1,0,0\\],\"mem\":\\[0,0,0,7,'", cli);
	/* vm0 starts with r0 = 1.5 (init): SETI r1 1, YIELD, ADD r0 = 2.5, HALT at 3 */
	tap_ok(sh(cmd) == 0, "lavm run --init sets registers and memory of VM 0");
	snprintf(cmd, sizeof(cmd), "%s run lavm/examples/yield.lasm --vms 1 --init /tmp/lavm_asm_test_init.json "
		 ">/dev/null 2>&1", cli);
	tap_ok(sh(cmd) == 1, "lavm run --init with more states than VMs exits 1");
	snprintf(cmd, sizeof(cmd), "%s run lavm/examples/yield.lasm --vms x >/dev/null 2>&1", cli);
	tap_ok(sh(cmd) == 2, "lavm run with a bad option exits 2");
	snprintf(cmd, sizeof(cmd), "%s run lavm/examples/yield.lasm --vms 3 --max-epochs 2 --json | tr -d ' \\n' "
		 "| grep -q '\"epochs\":2,\"vms\":\\[{\"status\":\"yielded\"'", cli);
	tap_ok(sh(cmd) == 0, "lavm run --max-epochs stops the run (a yielded VM stays yielded)");
	/* --acl: VMs 0, 1 (domain 0: segment 0) may not read word 4, VMs 2, 3 may */
	f = fopen("/tmp/lavm_asm_test_acl.lasm", "w");
	fputs(".shared 8\nSETI r1, 4\nSYSCALL_READ r2, r1\nHALT\n", f);
	fclose(f);
	f = fopen("/tmp/lavm_asm_test_acl.json", "w");
	fputs("{\"seg_words\": 4, \"dom\": [0, 0, 1, 1], \"allow\": [1, 3]}", f);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "%s run /tmp/lavm_asm_test_acl.lasm --vms 4 --acl /tmp/lavm_asm_test_acl.json "
		 "--json | tr -d ' \n' | grep -q '\[{\"status\":\"faulted\",\"ip\":1,[^}]*\"fault\":\"access\"},"
		 "{\"status\":\"faulted\",[^}]*},{\"status\":\"halted\",\"ip\":2,'", cli);
	tap_ok(sh(cmd) == 0, "lavm run --acl faults the VMs of a domain without access with \"access\"");
	snprintf(cmd, sizeof(cmd), "%s run /tmp/lavm_asm_test_acl.lasm --vms 3 --acl /tmp/lavm_asm_test_acl.json "
		 ">/dev/null 2>&1", cli);
	tap_ok(sh(cmd) == 1, "lavm run --acl with a domain list of the wrong length exits 1");
	unlink("/tmp/lavm_asm_test_acl.lasm");
	unlink("/tmp/lavm_asm_test_acl.json");
	unlink("/tmp/lavm_asm_test_bad.lasm");
	unlink("/tmp/lavm_asm_test.err");
	unlink("/tmp/lavm_asm_test.lavm");
	unlink("/tmp/lavm_asm_test2.lavm");
	unlink("/tmp/lavm_asm_test_init.json");
}

int main(void)
{
	const char *cli = getenv("LAVM_CLI");

	test_diagnostics();
	test_bundle();
	if (cli)
		test_cli(cli);
	else
		printf("# LAVM_CLI not set: CLI tests skipped\n");
	return tap_done();
}
