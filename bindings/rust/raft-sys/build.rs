//! Finds libraft and tells cargo how to link it.
//!
//! RAFT_LIB_DIR (and optionally RAFT_INCLUDE_DIR) point at a library directory
//! directly; otherwise `pkg-config raft` decides (PKG_CONFIG_PATH, and PKG_CONFIG
//! for another binary, are honoured).  The include directory is passed on to
//! dependent build scripts as DEP_RAFT_INCLUDE and to this crate's tests as
//! RAFT_SYS_INCLUDE_DIR, so that they compare these declarations with the header.
use std::env;
use std::process::Command;

/// This crate declares the 0.x ABI from 0.1.0 on; structs carry versions, so a
/// newer library of the same major accepts what it is given.
const MAJOR: u32 = 0;
const MIN_MINOR: u32 = 1;

fn main() {
    for var in ["RAFT_LIB_DIR", "RAFT_INCLUDE_DIR", "PKG_CONFIG_PATH", "PKG_CONFIG"] {
        println!("cargo:rerun-if-env-changed={}", var);
    }
    let (lib_dirs, include_dirs) = match env::var("RAFT_LIB_DIR") {
        Ok(dir) if !dir.is_empty() => {
            (vec![dir], env::var("RAFT_INCLUDE_DIR").into_iter().collect())
        }
        _ => probe_pkg_config(),
    };
    for dir in &lib_dirs {
        println!("cargo:rustc-link-search=native={}", dir);
    }
    println!("cargo:rustc-link-lib=dylib=raft");
    if let Some(dir) = include_dirs.first() {
        println!("cargo:include={}", dir);
        println!("cargo:rustc-env=RAFT_SYS_INCLUDE_DIR={}", dir);
    }
}

fn pkg_config(args: &[&str]) -> Result<String, String> {
    let tool = env::var("PKG_CONFIG").unwrap_or_else(|_| "pkg-config".to_string());
    let out = Command::new(&tool)
        .args(args)
        .arg("raft")
        .output()
        .map_err(|e| format!("cannot run {}: {}", tool, e))?;
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).trim().to_string());
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

fn probe_pkg_config() -> (Vec<String>, Vec<String>) {
    let fail = |why: String| -> ! {
        panic!(
            "raft-sys: cannot find libraft: {}\n\
             Install libraft (its raft.pc must be on PKG_CONFIG_PATH), or set RAFT_LIB_DIR \
             to the directory holding libraft.so (and RAFT_INCLUDE_DIR to its headers).",
            why
        )
    };
    let version = pkg_config(&["--modversion"]).unwrap_or_else(|e| fail(e));
    let mut parts = version.split('.').map(|p| p.parse::<u32>().ok());
    match (parts.next().flatten(), parts.next().flatten()) {
        (Some(major), Some(minor)) if major == MAJOR && minor >= MIN_MINOR => {}
        _ => fail(format!(
            "pkg-config found raft {}, but raft-sys needs {}.x from {}.{}.0 on \
             (Debian's libraft-dev is another library with the same pkg-config name)",
            version, MAJOR, MAJOR, MIN_MINOR
        )),
    }
    let strip = |flags: String, prefix: &str| -> Vec<String> {
        flags.split_whitespace().filter_map(|f| f.strip_prefix(prefix)).map(String::from).collect()
    };
    let libs = strip(pkg_config(&["--libs-only-L"]).unwrap_or_else(|e| fail(e)), "-L");
    let incs = strip(pkg_config(&["--cflags-only-I"]).unwrap_or_else(|e| fail(e)), "-I");
    (libs, incs)
}
