//! For the VM tests (tests/vm_*.rs), which include this file with
//! `#[path = "common/vm.rs"] mod vm;`.

use std::io::Write;

/// True inside the VM (VMTEST=1). Elsewhere prints the skip on stderr and returns false. The
/// line goes to `io::stderr()` directly: libtest captures only the print macros, so it shows.
pub fn in_vm(test: &str) -> bool {
    if std::env::var_os("VMTEST").is_some_and(|v| v == "1") {
        return true;
    }
    let _ =
        writeln!(std::io::stderr(), "{test}: skipped: run by scripts/vm-test.sh (needs the VM's drivers and VMTEST=1)");
    false
}
