//! Every function in include/mst.h documents its contract in the same five labelled lines
//! (the lead's ABI rule 5): Ownership, Thread safety, Blocking, Errors, Spec.

const LABELS: [&str; 5] = ["Ownership:", "Thread safety:", "Blocking:", "Errors:", "Spec:"];

/// (function name, its doc comment's lines) for every prototype in the header.
fn functions(header: &str) -> Vec<(String, Vec<String>)> {
    let lines: Vec<&str> = header.lines().collect();
    let mut out = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let Some(open) = line.find("mst_").filter(|_| !line.starts_with(' ') && line.contains('(')) else { continue };
        if line.starts_with('#') || line.starts_with("typedef") || line.starts_with("template") {
            continue;
        }
        let name: String = line[open..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
        let mut doc = Vec::new();
        if i > 0 && lines[i - 1].trim() == "*/" {
            for l in lines[..i - 1].iter().rev() {
                if l.trim() == "/**" {
                    break;
                }
                doc.push(l.trim().trim_start_matches('*').trim().to_string());
            }
            doc.reverse();
        }
        out.push((name, doc));
    }
    out
}

#[test]
fn every_function_documents_ownership_threads_blocking_errors_and_spec() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/include/mst.h");
    let header = std::fs::read_to_string(path).expect("include/mst.h is readable");
    let functions = functions(&header);
    // The parser sees every exported function: the header declares exactly abi/symbols.txt
    // (whose lines are name@NODE).
    let listed =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/abi/symbols.txt")).expect("abi/symbols.txt");
    let mut listed: Vec<&str> = listed
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| l.split_once('@').map_or(l, |(name, _)| name))
        .collect();
    let mut declared: Vec<&str> = functions.iter().map(|(name, _)| name.as_str()).collect();
    listed.sort_unstable();
    declared.sort_unstable();
    assert_eq!(declared, listed, "the functions mst.h declares are not abi/symbols.txt");
    let mut missing = Vec::new();
    for (name, doc) in &functions {
        for label in LABELS {
            if !doc.iter().any(|l| l.starts_with(label) && l.len() > label.len()) {
                missing.push(format!("{name}: no \"{label}\" line"));
            }
        }
    }
    assert!(missing.is_empty(), "mst.h functions without their contract lines:\n{}", missing.join("\n"));
}

#[test]
fn the_parser_sees_a_missing_label() {
    let header = "/**\n * Does it.\n *\n * Ownership: none.\n * Blocking: no.\n */\nMstStatus mst_x(void);\n";
    let f = functions(header);
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].0, "mst_x");
    assert!(f[0].1.iter().any(|l| l.starts_with("Ownership:")));
    assert!(!f[0].1.iter().any(|l| l.starts_with("Spec:")));
}
