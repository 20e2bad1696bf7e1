//! Every committed fuzz corpus and seed file goes through the same entry
//! points the fuzzers use (`callcoach::fuzzing`), so what once crashed, hung
//! or ran out of memory is checked on every `cargo test`, without nightly.

use std::path::Path;

#[test]
fn every_corpus_file_goes_through_its_parser_cleanly() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let mut n = 0;
    for (target, entry) in callcoach::fuzzing::TARGETS {
        for dir in ["corpus", "seeds", "regressions"] {
            let Ok(files) = std::fs::read_dir(root.join(dir).join(target)) else { continue };
            for f in files.flatten() {
                let data = std::fs::read(f.path()).unwrap();
                eprintln!("{target}: {}", f.path().display());
                entry(&data);
                n += 1;
            }
        }
    }
    assert!(n >= 40, "the corpora are there ({n} files)");
}
