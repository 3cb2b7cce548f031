//! Generates include/mst.h from src/ffi with cbindgen, and sets the shared library's SONAME.
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
    let major = env::var("CARGO_PKG_VERSION_MAJOR").unwrap_or_else(|_| "0".into());
    println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libmst.so.{major}");

    let config = cbindgen::Config::from_file(dir.join("cbindgen.toml")).expect("cbindgen.toml parses");
    // Only the C ABI (src/ffi and the modules it declares): the safe core's public items
    // are not part of mst.h.
    let builder = cbindgen::Builder::new().with_config(config).with_src(dir.join("src/ffi/mod.rs"));
    let bindings = match builder.with_after_include(version_macros()).generate() {
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

/// Builds src/convert/jpeg_raw.c (4:2:2 MJPEG in strips through libjpeg's raw-data
/// interface) when jpeglib.h is there (Debian: libjpeg62-turbo-dev), and tells rustc with
/// `cfg(mst_jpeg_raw)`; without it the library decodes MJPEG through TurboJPEG alone.
/// libjpeg itself is loaded at run time, so nothing is linked.
fn jpeg_raw() {
    println!("cargo:rerun-if-changed=src/convert/jpeg_raw.c");
    println!("cargo::rustc-check-cfg=cfg(mst_jpeg_raw)");
    let built = cc::Build::new()
        .file("src/convert/jpeg_raw.c")
        .warnings(true)
        .extra_warnings(true)
        .flag_if_supported("-fvisibility=hidden")
        .cargo_warnings(false)
        .try_compile("mst_jpeg_raw");
    match built {
        Ok(()) => println!("cargo:rustc-cfg=mst_jpeg_raw"),
        Err(e) => println!(
            "cargo:warning=MJPEG 4:2:2 strip decoding is not built (needs jpeglib.h: Debian libjpeg62-turbo-dev): {e}"
        ),
    }
}

fn version_macros() -> String {
    let v = |k: &str| env::var(k).unwrap_or_else(|_| "0".into());
    format!(
        "\n#define MST_VERSION_MAJOR {}\n#define MST_VERSION_MINOR {}\n#define MST_VERSION_PATCH {}\n#define MST_VERSION_STRING \"{}\"\n",
        v("CARGO_PKG_VERSION_MAJOR"),
        v("CARGO_PKG_VERSION_MINOR"),
        v("CARGO_PKG_VERSION_PATCH"),
        v("CARGO_PKG_VERSION")
    )
}
