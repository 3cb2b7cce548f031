// The MJPEG target's reference decoder (src/jpeg_ref.c) is libjpeg itself (Debian's
// libjpeg62-turbo-dev, which libmst's build needs too).
fn main() {
    println!("cargo:rerun-if-changed=src/jpeg_ref.c");
    cc::Build::new().file("src/jpeg_ref.c").warnings(true).extra_warnings(true).compile("mst_fuzz_ref");
    println!("cargo:rustc-link-lib=jpeg");
}
