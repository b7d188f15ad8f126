//! Replays the seed and regression corpus of every fuzz target (`tests/fuzz/corpus/<target>/`)
//! through the same checks the fuzz targets run (`fluxbase::fuzzing`), so CI exercises them with
//! a plain `cargo test` and no fuzz build. Long fuzzing: see README.md ("Fuzzing").

use std::path::PathBuf;

use fluxbase::fuzzing;

fn replay(target: &str, check: fn(&[u8])) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fuzz/corpus")
        .join(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.is_file())
        .collect();
    files.sort();
    assert!(files.len() >= 3, "{} holds too few inputs", dir.display());
    let broken: Vec<String> = files
        .iter()
        .filter(|file| {
            let data = std::fs::read(file).unwrap();
            std::panic::catch_unwind(|| check(&data)).is_err()
        })
        .map(|file| file.display().to_string())
        .collect();
    assert!(
        broken.is_empty(),
        "{target}: these inputs break an invariant (see the panics above): {broken:#?}"
    );
}

#[test]
fn envelope_corpus() {
    replay("envelope", fuzzing::envelope);
    // A freshly sealed envelope, and every single-bit flip of it.
    let sealed = fuzzing::seed_envelope();
    fuzzing::envelope(&sealed);
    for byte in 0..sealed.len() {
        for bit in 0..8 {
            let mut flipped = sealed.clone();
            flipped[byte] ^= 1 << bit;
            fuzzing::envelope(&flipped);
        }
    }
}

#[test]
fn names_corpus() {
    replay("names", fuzzing::names);
}

#[test]
fn expiry_corpus() {
    replay("expiry", fuzzing::expiry);
}

#[test]
fn admin_body_corpus() {
    replay("admin_body", fuzzing::admin_body);
}

#[test]
fn dotenv_corpus() {
    replay("dotenv", fuzzing::dotenv);
}

/// Writes a freshly sealed envelope into the envelope corpus (the seed that opens under the fuzz
/// key): `cargo test --test fuzz_corpus -- --ignored`.
#[test]
#[ignore = "writes tests/fuzz/corpus/envelope/sealed"]
fn write_sealed_envelope_seed() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz/corpus/envelope");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("sealed"), fuzzing::seed_envelope()).unwrap();
}
