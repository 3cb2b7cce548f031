//! Generates include/mst.h from src/ffi with cbindgen, sets the shared library's SONAME and
//! versions its symbols (abi/symbols.txt, abi/libmst.map).
//!
//! The header is committed. It is rewritten only when its content changes, so an unchanged
//! API leaves the file (and its mtime) alone; CI regenerates it and fails on any diff.

use std::{env, fs, path::PathBuf};

fn main() {
    let dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    println!("cargo:rerun-if-changed=src/ffi");
    println!("cargo:rerun-if-changed=cbindgen.toml");
    println!("cargo:rerun-if-changed=build.rs");
    // A hand-edited header is regenerated (and so shows as a diff) on the next build.
    println!("cargo:rerun-if-changed=include/mst.h");
    jpeg_raw();
    alsa_errors();
    let major = env::var("CARGO_PKG_VERSION_MAJOR").unwrap_or_else(|_| "0".into());
    println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libmst.so.{major}");
    symbol_versions(&dir);

    let config = cbindgen::Config::from_file(dir.join("cbindgen.toml")).expect("cbindgen.toml parses");
    // Only the C ABI (src/ffi and the modules it declares): the safe core's public items
    // are not part of mst.h.
    let builder = cbindgen::Builder::new().with_config(config).with_src(dir.join("src/ffi/mod.rs"));
    let bindings = match builder.with_after_include(after_includes()).generate() {
        Ok(b) => b,
        Err(e) => {
            // A parse error in src/ffi is reported by rustc itself with a better message.
            println!("cargo:warning=cbindgen could not generate mst.h: {e}");
            return;
        }
    };
    let mut text = Vec::new();
    bindings.write(&mut text);
    let path = dir.join("include/mst.h");
    if fs::read(&path).ok().as_deref() != Some(&text[..]) {
        fs::create_dir_all(dir.join("include")).expect("create include/");
        fs::write(&path, &text).expect("write include/mst.h");
    }
}

/// Builds src/convert/jpeg/raw.c (MJPEG in strips through libjpeg's raw-data interface, fed
/// by libmst's own Huffman decode), which needs jpeglib.h; libjpeg itself is loaded at run
/// time, so nothing is linked. There is one MJPEG build: without the header the build fails
/// and says what to install, rather than quietly building a decoder no test runs.
fn jpeg_raw() {
    println!("cargo:rerun-if-changed=src/convert/jpeg/raw.c");
    // The header alone first, so that its absence is told apart from any other failure.
    let out = PathBuf::from(env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    let probe = out.join("jpeglib_probe.c");
    fs::write(&probe, "#include <stddef.h>\n#include <stdio.h>\n#include <jpeglib.h>\n").expect("write the probe");
    if let Err(e) = cc::Build::new().file(&probe).cargo_warnings(false).try_expand() {
        eprintln!(
            "error: libmst's build needs jpeglib.h, libjpeg-turbo's development header (the library itself is loaded at run time, not linked). Install it:\n  Debian: apt-get install libjpeg62-turbo-dev   (bash scripts/deps.sh build installs it)\n  Ubuntu: apt-get install libjpeg-turbo8-dev\n  Fedora: dnf install libjpeg-turbo-devel\n  Alpine: apk add libjpeg-turbo-dev\n({e})"
        );
        std::process::exit(1);
    }
    cc::Build::new()
        .file("src/convert/jpeg/raw.c")
        .warnings(true)
        .extra_warnings(true)
        .flag_if_supported("-fvisibility=hidden")
        .compile("mst_jpeg_raw");
}

/// Builds src/log/alsa_errors.c, which formats alsa-lib's C-variadic error messages for
/// libmst's log (src/log/mod.rs): only C can read a va_list on stable Rust.
fn alsa_errors() {
    println!("cargo:rerun-if-changed=src/log/alsa_errors.c");
    cc::Build::new()
        .file("src/log/alsa_errors.c")
        .warnings(true)
        .extra_warnings(true)
        .flag_if_supported("-fvisibility=hidden")
        .compile("mst_alsa_errors");
}

/// The version macros and MST_STRUCT_INIT, which cbindgen cannot write from Rust items.
fn after_includes() -> String {
    let v = |k: &str| env::var(k).unwrap_or_else(|_| "0".into());
    format!(
        "\n#define MST_VERSION_MAJOR {}\n#define MST_VERSION_MINOR {}\n#define MST_VERSION_PATCH {}\n#define MST_VERSION_STRING \"{}\"\n{STRUCT_INIT}",
        v("CARGO_PKG_VERSION_MAJOR"),
        v("CARGO_PKG_VERSION_MINOR"),
        v("CARGO_PKG_VERSION_PATCH"),
        v("CARGO_PKG_VERSION")
    )
}

const STRUCT_INIT: &str = r#"
/* MST_STRUCT_INIT(T): a size-prefixed struct T with every member zero (= default or unset)
 * and struct_size = sizeof(T), the size this program was compiled with:
 *     MstToneOptions options = MST_STRUCT_INIT(MstToneOptions);
 * In C++ it value-initializes and then sets struct_size. */
#ifdef __cplusplus
template <typename T> static inline T mst_struct_init(void) {
  T value{};
  value.struct_size = sizeof(T);
  return value;
}
#define MST_STRUCT_INIT(T) (mst_struct_init<T>())
#else
#define MST_STRUCT_INIT(T) {.struct_size = sizeof(T)}
#endif
"#;

/// Gives every exported symbol its version node, MST_1.0 or a later one (abi/libmst.map,
/// abi/symbols.txt, which lists each as `name@MST_1.x`). rustc
/// passes its own version script, which lists the symbols unversioned, and linkers keep a
/// symbol's first assignment, so abi/libmst.map alone would be ignored: with `cfg(mst_symver)`
/// each src/ffi file ends in `symver!(...)`, a `.symver name, name@@@MST_1.x, remove`
/// directive per function, which renames it in its object to its versioned form. rust-lld
/// (Rust's default linker on x86-64 Linux since 1.90) keeps that, with the node defined by
/// abi/libmst.map; static links see the plain names (a version means nothing there). GNU ld
/// refuses two version scripts, so other targets get unversioned symbols and a warning.
fn symbol_versions(dir: &std::path::Path) {
    println!("cargo:rerun-if-changed=abi/libmst.map");
    println!("cargo::rustc-check-cfg=cfg(mst_symver)");
    let target = env::var("TARGET").unwrap_or_default();
    if target != "x86_64-unknown-linux-gnu" {
        println!("cargo:warning=libmst's symbols are versioned on x86_64-unknown-linux-gnu only (rust-lld); {target} gets unversioned ones");
        return;
    }
    println!("cargo:rustc-cfg=mst_symver");
    println!("cargo:rustc-cdylib-link-arg=-Wl,--version-script={}", dir.join("abi/libmst.map").display());
}
