//! The declarations in this crate against a C compiler's view of raft.h.
//!
//! A C program is generated from the Rust side: per struct, a positional
//! initializer with one 0 per Rust field (with -Werror, "missing initializer"
//! and "excess elements" make a field-count mismatch a compile error, even for a
//! field hidden in padding), then sizeof and each field's offset and size, then
//! every constant.  The output must equal what Rust computes.
use raft_sys::*;
use std::collections::BTreeMap;
use std::mem::{size_of, MaybeUninit};
use std::path::PathBuf;
use std::process::Command;

struct Layout {
    name: &'static str,
    size: usize,
    fields: Vec<(&'static str, usize, usize)>, // name, offset, size
}

fn size_of_pointee<T>(_: *const T) -> usize {
    size_of::<T>()
}

macro_rules! layout {
    ($ty:ident { $($field:ident),* $(,)? }) => {{
        let probe = MaybeUninit::<$ty>::uninit();
        let base = probe.as_ptr();
        // addr_of! takes a field's address without reading the uninitialised memory.
        let fields = vec![$({
            let at = unsafe { std::ptr::addr_of!((*base).$field) };
            (stringify!($field), at as usize - base as usize, size_of_pointee(at))
        }),*];
        Layout { name: stringify!($ty), size: size_of::<$ty>(), fields }
    }};
}

fn rust_layouts() -> Vec<Layout> {
    vec![
        layout!(raft_options {
            version,
            id,
            peers,
            n_peers,
            heartbeat_ms,
            election_timeout_min_ms,
            election_timeout_max_ms,
            data_dir,
            cluster_id,
            random_seed,
            pre_vote,
            check_quorum,
            max_batch_bytes,
            max_inflight,
            max_entry_bytes,
            max_queue_bytes,
            log_level,
            storage,
            snapshot_interval,
            snapshot_trailing,
            max_snapshot_chunk_bytes,
            busy_poll_us,
            max_uncommitted_bytes,
        }),
        layout!(raft_entry { term, id, type_, data, len }),
        layout!(raft_storage {
            version,
            ctx,
            load,
            save_hard_state,
            append,
            truncate,
            sync,
            close,
            snapshot_begin,
            snapshot_write,
            snapshot_commit,
            snapshot_meta,
            snapshot_read,
            compact,
        }),
        layout!(raft_callbacks {
            version,
            apply,
            transition_state,
            send,
            receive,
            halt,
            leader,
            log,
            snapshot_save,
            snapshot_load,
        }),
        layout!(raft_status {
            version,
            id,
            role,
            term,
            leader,
            commit_index,
            applied_index,
            last_index,
            snapshot_index,
            msgs_sent,
            msgs_received,
            msgs_rejected,
            elections_started,
            proposals_queued,
        }),
        layout!(raft_proposal { id, data, len }),
    ]
}

fn rust_constants() -> Vec<(&'static str, i64)> {
    macro_rules! consts {
        ($($name:ident),* $(,)?) => { vec![$((stringify!($name), $name as i64)),*] };
    }
    consts!(
        RAFT_NO_ID,
        RAFT_VERSION_MAJOR,
        RAFT_VERSION_MINOR,
        RAFT_VERSION_PATCH,
        RAFT_VERSION_NUMBER,
        RAFT_OK,
        RAFT_EINVAL,
        RAFT_ENOMEM,
        RAFT_ENOTLEADER,
        RAFT_EBUSY,
        RAFT_ESHUTDOWN,
        RAFT_EIO,
        RAFT_ECORRUPT,
        RAFT_ETOOBIG,
        RAFT_ECALLBACK,
        RAFT_EVERSION,
        RAFT_EINTERNAL,
        RAFT_ENOTSUP,
        RAFT_FOLLOWER,
        RAFT_PRE_CANDIDATE,
        RAFT_CANDIDATE,
        RAFT_LEADER,
        RAFT_TRANSITION_QUEUED,
        RAFT_TRANSITION_COMMITTED,
        RAFT_TRANSITION_APPLIED,
        RAFT_TRANSITION_ABANDONED_NOT_LEADER,
        RAFT_TRANSITION_ABANDONED_CONFLICT,
        RAFT_TRANSITION_UNKNOWN,
        RAFT_LOG_ERROR,
        RAFT_LOG_WARN,
        RAFT_LOG_INFO,
        RAFT_LOG_DEBUG,
        RAFT_OPTIONS_VERSION,
        RAFT_CALLBACKS_VERSION,
        RAFT_STATUS_VERSION,
        RAFT_STORAGE_VERSION,
        RAFT_ENTRY_COMMAND,
        RAFT_ENTRY_NOOP,
        RAFT_SNAPSHOT_META_MAX,
        RAFT_SNAPSHOT_MORE,
    )
}

/// Rust spells the C field `type` as `type_`.
fn c_field(rust: &str) -> &str {
    rust.strip_suffix('_').unwrap_or(rust)
}

fn c_program(layouts: &[Layout], constants: &[(&str, i64)]) -> String {
    let mut c = String::from(
        "#include <stddef.h>\n#include <stdio.h>\n#include <raft.h>\nint main(void) {\n",
    );
    for l in layouts {
        let zeros = vec!["0"; l.fields.len()].join(", ");
        c += &format!("  {{ {n} probe = {{{z}}}; (void)probe; }}\n", n = l.name, z = zeros);
        c += &format!("  printf(\"{n} %zu\\n\", sizeof({n}));\n", n = l.name);
        for (field, _, _) in &l.fields {
            c += &format!(
                "  printf(\"{n}.{f} %zu %zu\\n\", offsetof({n}, {f}), sizeof((({n} *)0)->{f}));\n",
                n = l.name,
                f = c_field(field)
            );
        }
    }
    for (name, _) in constants {
        c += &format!("  printf(\"{n} %lld\\n\", (long long)({n}));\n", n = name);
    }
    c + "  return 0;\n}\n"
}

fn include_dir() -> PathBuf {
    match option_env!("RAFT_SYS_INCLUDE_DIR") {
        Some(dir) => PathBuf::from(dir),
        // A system-wide install: pkg-config omits -I/usr/include, and the repository's copy
        // is what this crate was written against.
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../include"),
    }
}

fn compile_and_run(source: &str, stem: &str) -> Result<String, String> {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    let c_file = dir.join(format!("{}.c", stem));
    let exe = dir.join(stem);
    std::fs::write(&c_file, source).unwrap();
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".to_string());
    let mut parts = cc.split_whitespace();
    let built = Command::new(parts.next().unwrap())
        .args(parts)
        .args(["-std=c99", "-Wall", "-Wextra", "-Werror", "-Wmissing-field-initializers", "-I"])
        .arg(include_dir())
        .arg(&c_file)
        .arg("-o")
        .arg(&exe)
        .output()
        .expect("cannot run the C compiler ($CC or cc)");
    if !built.status.success() {
        return Err(String::from_utf8_lossy(&built.stderr).into_owned());
    }
    let run = Command::new(&exe).output().unwrap();
    assert!(run.status.success());
    Ok(String::from_utf8(run.stdout).unwrap())
}

#[test]
fn structs_and_constants_match_the_header() {
    let layouts = rust_layouts();
    let constants = rust_constants();
    let output = compile_and_run(&c_program(&layouts, &constants), "layout")
        .unwrap_or_else(|e| panic!("raft-sys declarations disagree with raft.h:\n{}", e));
    let c: BTreeMap<&str, Vec<i64>> = output
        .lines()
        .map(|line| {
            let mut words = line.split_whitespace();
            let key = words.next().unwrap();
            (key, words.map(|w| w.parse().unwrap()).collect())
        })
        .collect();
    let mut wrong = Vec::new();
    for l in &layouts {
        if c[l.name] != [l.size as i64] {
            wrong.push(format!("sizeof({}): C {:?}, Rust {}", l.name, c[l.name], l.size));
        }
        for (field, offset, size) in &l.fields {
            let key = format!("{}.{}", l.name, c_field(field));
            if c[key.as_str()] != [*offset as i64, *size as i64] {
                wrong.push(format!(
                    "{} (offset, size): C {:?}, Rust ({}, {})",
                    key,
                    c[key.as_str()],
                    offset,
                    size
                ));
            }
        }
    }
    for (name, value) in &constants {
        if c[name] != [*value] {
            wrong.push(format!("{}: C {:?}, Rust {}", name, c[name], value));
        }
    }
    assert!(wrong.is_empty(), "ABI mismatches:\n{}", wrong.join("\n"));
}

#[test]
#[cfg(target_pointer_width = "64")]
fn raft_proposal_has_the_64_bit_c_layout() {
    // raft.h: uint64_t id; const void* data; size_t len.  The comparison with the C
    // compiler above covers every target; this pins the common one by number.
    let l = rust_layouts().into_iter().find(|l| l.name == "raft_proposal").unwrap();
    assert_eq!(l.size, 24);
    assert_eq!(l.fields, [("id", 0, 8), ("data", 8, 8), ("len", 16, 8)]);
}

#[test]
fn a_missing_field_is_detected() {
    let mut layouts = rust_layouts();
    layouts.retain(|l| l.name == "raft_status");
    layouts[0].fields.pop();
    let err = compile_and_run(&c_program(&layouts, &[]), "short").expect_err("must not compile");
    assert!(err.contains("proposals_queued"), "{}", err);
}

#[test]
fn the_loaded_library_matches_the_declarations() {
    let number = unsafe { raft_version_number() };
    assert_eq!(number / 10000, RAFT_VERSION_MAJOR);
    assert!(number >= RAFT_VERSION_NUMBER);
    let text = unsafe { std::ffi::CStr::from_ptr(raft_version_string()) }.to_str().unwrap();
    assert_eq!(text, format!("{}.{}.{}", number / 10000, number / 100 % 100, number % 100));
}

/// Every function raft.h exports: the identifier before the first `(` after each
/// RAFT_API, comments and preprocessor lines removed.
fn header_functions() -> Vec<String> {
    let text = std::fs::read_to_string(include_dir().join("raft.h")).unwrap();
    let mut code = String::new();
    let mut rest = text.as_str();
    while let Some(start) = rest.find("/*") {
        code += &rest[..start];
        rest = &rest[start + rest[start..].find("*/").expect("unterminated comment") + 2..];
    }
    code += rest;
    let code: String =
        code.lines().filter(|l| !l.trim_start().starts_with('#')).collect::<Vec<_>>().join("\n");
    let mut names: Vec<String> = code
        .split("RAFT_API")
        .skip(1)
        .map(|decl| {
            let head = &decl[..decl.find('(').unwrap()];
            let ident = head.rsplit(|c: char| !(c.is_alphanumeric() || c == '_')).next().unwrap();
            ident.to_string()
        })
        .collect();
    names.sort();
    names
}

#[test]
fn every_header_function_is_declared() {
    // Naming each function takes its address: a missing declaration fails to compile.
    macro_rules! declared {
        ($($f:ident),* $(,)?) => {{
            let mut v = vec![$({ let _address = $f as *const (); stringify!($f).to_string() }),*];
            v.sort();
            v
        }};
    }
    let declared = declared!(
        raft_version_number,
        raft_version_string,
        raft_strerror,
        raft_options_init,
        raft_storage_init,
        raft_callbacks_init,
        raft_snapshot_write,
        raft_snapshot_read,
        raft_status_init,
        raft_node_create,
        raft_node_destroy,
        raft_node_run,
        raft_node_poll,
        raft_node_propose,
        raft_node_propose_batch,
        raft_node_notify,
        raft_node_stop,
        raft_node_status,
        raft_node_errmsg,
    );
    assert_eq!(declared, header_functions());
}
