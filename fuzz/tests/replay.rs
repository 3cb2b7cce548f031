//! Every committed corpus file (fuzz/corpus/TARGET/) through its target's check, as libFuzzer
//! would run it, on stable Rust: `cargo test --manifest-path fuzz/Cargo.toml` (bash
//! scripts/test.sh runs it in its cargo test stage).

use std::path::Path;

fn replay(target: &str, check: fn(&[u8])) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus").join(target);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("a directory entry").path())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "{}: an empty corpus replays nothing", dir.display());
    for f in &files {
        let data = std::fs::read(f).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        eprintln!("{}", f.display());
        check(&data);
    }
}

#[test]
fn mjpeg_corpus() {
    replay("mjpeg", mst_fuzz::mjpeg);
}

#[test]
fn wav_corpus() {
    replay("wav", mst_fuzz::wav);
}

#[test]
fn files_corpus() {
    replay("files", mst_fuzz::files);
}
