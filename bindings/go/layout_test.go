package raft

// The package's view of raft.h against a separately compiled C program.  Per
// struct the program holds a positional initializer with one 0 per field that
// layout.go lists: with -Werror, "missing initializer" and "excess elements"
// make any field-count mismatch a compile error, even for a field hidden in
// padding.  It prints sizeof and each field's offset and size, and every
// constant, which must equal what Go computed.

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func goConstants() map[string]int64 {
	c := map[string]int64{"RAFT_NO_ID": int64(NoID), "RAFT_VERSION_NUMBER": int64(libraryVersionNumber())}
	for name, v := range map[string]Role{"FOLLOWER": RoleFollower, "PRE_CANDIDATE": RolePreCandidate, "CANDIDATE": RoleCandidate, "LEADER": RoleLeader} {
		c["RAFT_"+name] = int64(v)
	}
	for name, v := range map[string]TransitionState{"QUEUED": TransitionQueued, "COMMITTED": TransitionCommitted, "APPLIED": TransitionApplied, "ABANDONED_NOT_LEADER": TransitionAbandonedNotLeader, "ABANDONED_CONFLICT": TransitionAbandonedConflict, "UNKNOWN": TransitionUnknown} {
		c["RAFT_TRANSITION_"+name] = int64(v)
	}
	for name, v := range map[string]LogLevel{"ERROR": LogError, "WARN": LogWarn, "INFO": LogInfo, "DEBUG": LogDebug} {
		c["RAFT_LOG_"+name] = int64(v)
	}
	for name, v := range map[string]ErrorCode{"EINVAL": ErrCodeInvalid, "ENOMEM": ErrCodeNoMemory, "ENOTLEADER": ErrCodeNotLeader, "EBUSY": ErrCodeBusy, "ESHUTDOWN": ErrCodeShutdown, "EIO": ErrCodeIO, "ECORRUPT": ErrCodeCorrupt, "ETOOBIG": ErrCodeTooBig, "ECALLBACK": ErrCodeCallback, "EVERSION": ErrCodeVersion, "EINTERNAL": ErrCodeInternal, "ENOTSUP": ErrCodeNotSupported} {
		c["RAFT_"+name] = int64(v)
	}
	return c
}

func cProgram(layouts []structLayout, constants map[string]int64) string {
	var b strings.Builder
	b.WriteString("#include <stddef.h>\n#include <stdio.h>\n#include <raft.h>\nint main(void) {\n")
	for _, l := range layouts {
		zeros := strings.TrimSuffix(strings.Repeat("0, ", len(l.fields)), ", ")
		fmt.Fprintf(&b, "  { %s probe = {%s}; (void)probe; }\n", l.name, zeros)
		fmt.Fprintf(&b, "  printf(\"%s %%zu\\n\", sizeof(%s));\n", l.name, l.name)
		for _, f := range l.fields {
			fmt.Fprintf(&b, "  printf(\"%s.%s %%zu %%zu\\n\", offsetof(%s, %s), sizeof(((%s *)0)->%s));\n",
				l.name, f.name, l.name, f.name, l.name, f.name)
		}
	}
	for name := range constants {
		fmt.Fprintf(&b, "  printf(\"%s %%lld\\n\", (long long)(%s));\n", name, name)
	}
	b.WriteString("  return 0;\n}\n")
	return b.String()
}

// includeFlags asks pkg-config, like the package's #cgo line; the repository's
// include/ covers a system-wide install (pkg-config omits -I/usr/include).
func includeFlags(t *testing.T) []string {
	tool := os.Getenv("PKG_CONFIG")
	if tool == "" {
		tool = "pkg-config"
	}
	out, err := exec.Command(tool, "--cflags-only-I", "raft").Output()
	if err != nil {
		t.Fatalf("pkg-config raft: %v", err)
	}
	flags := strings.Fields(string(out))
	if len(flags) == 0 {
		flags = []string{"-I" + filepath.Join("..", "..", "include")}
	}
	return flags
}

func compileAndRun(t *testing.T, source, stem string) (string, error) {
	dir := t.TempDir()
	src := filepath.Join(dir, stem+".c")
	exe := filepath.Join(dir, stem)
	if err := os.WriteFile(src, []byte(source), 0o644); err != nil {
		t.Fatal(err)
	}
	cc := strings.Fields(os.Getenv("CC"))
	if len(cc) == 0 {
		cc = []string{"cc"}
	}
	args := append(cc[1:], "-std=c99", "-Wall", "-Wextra", "-Werror", "-Wmissing-field-initializers")
	args = append(append(args, includeFlags(t)...), src, "-o", exe)
	if out, err := exec.Command(cc[0], args...).CombinedOutput(); err != nil {
		return "", fmt.Errorf("%v\n%s", err, out)
	}
	out, err := exec.Command(exe).Output()
	if err != nil {
		t.Fatal(err)
	}
	return string(out), nil
}

func TestStructsAndConstantsMatchTheHeader(t *testing.T) {
	layouts, constants := cgoLayouts(), goConstants()
	out, err := compileAndRun(t, cProgram(layouts, constants), "layout")
	if err != nil {
		t.Fatalf("the binding's view disagrees with raft.h: %v", err)
	}
	c := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		key, rest, _ := strings.Cut(line, " ")
		c[key] = rest
	}
	for _, l := range layouts {
		if got, want := c[l.name], fmt.Sprint(l.size); got != want {
			t.Errorf("sizeof(%s): C %s, Go %s", l.name, got, want)
		}
		for _, f := range l.fields {
			key := l.name + "." + f.name
			if got, want := c[key], fmt.Sprintf("%d %d", f.offset, f.size); got != want {
				t.Errorf("%s (offset size): C %s, Go %s", key, got, want)
			}
		}
	}
	for name, v := range constants {
		if got := c[name]; got != fmt.Sprint(v) {
			t.Errorf("%s: C %s, Go %d", name, got, v)
		}
	}
}

func TestAMissingFieldIsDetected(t *testing.T) {
	var status []structLayout
	for _, l := range cgoLayouts() {
		if l.name == "raft_status" {
			l.fields = l.fields[:len(l.fields)-1]
			status = append(status, l)
		}
	}
	_, err := compileAndRun(t, cProgram(status, nil), "short")
	if err == nil || !strings.Contains(err.Error(), "proposals_queued") {
		t.Fatalf("a struct with a field too few compiled: %v", err)
	}
}

func TestLibraryVersion(t *testing.T) {
	n := libraryVersionNumber()
	if want := fmt.Sprintf("%d.%d.%d", n/10000, n/100%100, n%100); LibraryVersion() != want {
		t.Fatalf("LibraryVersion %q, number %d", LibraryVersion(), n)
	}
	if n/10000 != 0 || n < 100 {
		t.Fatalf("library version %d is outside what this binding supports", n)
	}
}
