use clap::Parser;

use super::*;

fn scratch(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "kindred-preflight-{name}-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn the_catalog_needs_a_directory_that_exists_and_takes_a_write_and_leaves_nothing_there() {
    let dir = scratch("catalog");
    assert_eq!(check_catalog_dir(&dir.join("catalog.json")), Ok(()));
    assert_eq!(
        std::fs::read_dir(&dir).unwrap().count(),
        0,
        "the test file is removed"
    );
    let missing = check_catalog_dir(&dir.join("no/such/catalog.json")).unwrap_err();
    assert!(missing.contains("not a directory that exists"), "{missing}");
    let directory = check_catalog_dir(&dir).unwrap_err();
    assert!(directory.starts_with("is a directory"), "{directory}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn an_empty_phrases_file_is_refused_and_a_real_one_is_counted() {
    let dir = scratch("phrases");
    let empty = dir.join("empty.txt");
    std::fs::write(&empty, "# nothing yet\n").unwrap();
    assert!(
        read_phrases(&empty)
            .unwrap_err()
            .starts_with("has no phrases")
    );
    let two = dir.join("two.txt");
    std::fs::write(
        &two,
        "[suicidal_ideation]\nwant to disappear\nnot wake up\n",
    )
    .unwrap();
    assert_eq!(read_phrases(&two), Ok(2));
    let gone = read_phrases(&dir.join("gone.txt")).unwrap_err();
    assert!(gone.starts_with("cannot be read ("), "{gone}");
    // One cause, said once.
    assert_eq!(gone.matches("os error").count(), 1, "{gone}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_open_files_limit_must_hold_every_websocket_and_bounds_the_tcp_cap() {
    let mut c = Config::default();
    assert_eq!(check_open_files(&c, 1 << 20), Ok(None));
    let low = check_open_files(&c, 1024).unwrap_err();
    assert!(
        low.starts_with("KINDRED_MAX_CONNECTIONS (--max-connections) is 10000")
            && low.contains("ulimit -n")
            && low.contains("LimitNOFILE")
            && low.contains("at least 10064, or lower KINDRED_MAX_CONNECTIONS to 960"),
        "{low}"
    );
    let none = check_open_files(&c, 64).unwrap_err();
    assert!(none.contains("no WebSockets fit in 64"), "{none}");
    // Room for every WebSocket but not every TCP connection: taken, the cap lowered.
    let warning = check_open_files(&c, 15_064).unwrap().unwrap();
    assert!(warning.contains("capped at 15000 instead of"), "{warning}");
    assert_eq!(c.http_connection_cap(), 20_000);
    c.open_files_limit = Some(15_064);
    assert_eq!(c.http_connection_cap(), 15_000);
    c.open_files_limit = Some(1 << 20);
    assert_eq!(c.http_connection_cap(), 20_000);
    let small = Config::parse_from(["kindred", "--max-connections", "16"]);
    assert!(check_open_files(&small, 128).unwrap().is_some());
}
