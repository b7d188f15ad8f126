//! Concurrent writers to one secret: every write becomes exactly one version, none lost, none
//! duplicated.

use crate::support;

use support::Host;

const WRITERS: usize = 8;
const SETS_PER_WRITER: usize = 50;

#[test]
fn eight_writers_times_fifty_sets_give_versions_1_to_400() {
    writers_give_consecutive_versions(&Host::new());
}

fn writers_give_consecutive_versions(host: &Host) {
    host.run(&["secrets", "list"]).ok(); // creates the store and its key once

    std::thread::scope(|scope| {
        for writer in 0..WRITERS {
            scope.spawn(move || {
                for i in 0..SETS_PER_WRITER {
                    let value = format!("writer-{writer}-set-{i}");
                    host.run(&["secrets", "set", "SHARED", &value]).ok();
                }
            });
        }
    });

    let total = (WRITERS * SETS_PER_WRITER) as i64;
    assert_eq!(
        host.versions("SHARED", None),
        (1..=total).collect::<Vec<_>>()
    );
    assert_eq!(host.metadata("SHARED", None)["version"], total);
    let audited = host.audit().iter().filter(|r| r["action"] == "set").count();
    assert_eq!(audited, WRITERS * SETS_PER_WRITER);
    host.run(&["secrets", "verify"]).ok();
}
