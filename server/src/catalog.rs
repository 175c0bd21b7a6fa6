//! The catalog file (`--catalog-file`): what the in-memory broker keeps across a
//! restart. Off by default, so the zero-setup command writes nothing to disk.
//!
//! The catalog is what an operator set up, never what members said: each room as
//! [`Room::reopened`] gives it (settings, schedule, content policy, bans by user id
//! and keyed marks, facilitator invites with their uses and seats, the session number
//! so members' tokens stay valid, whether a session is open). Members, names, the
//! timeline, whispers, alerts, held messages and the moderation log are not in it.
//! With Redis the same records live in Redis (`broker::redis`), so this file is for
//! the in-memory broker only.
//!
//! The file is JSON, `{"format": 1, "rooms": [...]}`, written whole and atomically:
//! a temporary file beside it, fsync, rename, fsync of the directory. A crash leaves
//! either the old file or the new one, never half of one. The broker answers a change
//! only once [`CatalogFile::store`] has returned for it (`broker::memory`), so what
//! was acknowledged is on disk. The temporary file has a
//! random name and is created afresh (exclusive create, no-follow, mode 0600), so
//! nobody who can write to the directory can prepare a file or a symlink at its name
//! and have the catalog written through it. `format` is the version of
//! this shape; a Kindred that changes it keeps reading every older format (the
//! fixture `tests/fixtures/catalog-format-1.json` is read by the tests of every
//! later version), and refuses a newer one by name rather than guess.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::room::Room;

/// The format this Kindred writes.
pub const FORMAT: u32 = 1;

/// The catalog as written.
#[derive(Serialize)]
struct Written<'a> {
    format: u32,
    rooms: &'a [Room],
}

/// Format 1, as read.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Format1 {
    #[serde(rename = "format")]
    _format: u32,
    rooms: Vec<Room>,
}

/// Why a catalog file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    #[error("reading the catalog file {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the catalog file {path} is not a Kindred catalog: {reason}")]
    Invalid { path: PathBuf, reason: String },
    #[error(
        "the catalog file {path} has format {found}, written by a newer Kindred; this one reads formats up to {FORMAT}"
    )]
    Newer { path: PathBuf, found: u64 },
}

/// One catalog file.
#[derive(Clone, Debug)]
pub struct CatalogFile {
    path: PathBuf,
}

impl CatalogFile {
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self { path: path.into() }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The rooms the file keeps; none when the file does not exist yet.
    pub fn load(&self) -> Result<Vec<Room>, CatalogError> {
        let text = match std::fs::read_to_string(&self.path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(source) => {
                return Err(CatalogError::Io {
                    path: self.path.clone(),
                    source,
                });
            }
        };
        parse(&text).map_err(|e| match e {
            Parse::Invalid(reason) => CatalogError::Invalid {
                path: self.path.clone(),
                reason,
            },
            Parse::Newer(found) => CatalogError::Newer {
                path: self.path.clone(),
                found,
            },
        })
    }

    /// Replace the file with these rooms, atomically. Blocking: call it off the
    /// async workers (`spawn_blocking`).
    pub fn store(&self, rooms: &[Room]) -> std::io::Result<()> {
        let dir = match self.path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_owned(),
            _ => PathBuf::from("."),
        };
        let name = self
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "catalog".to_owned());
        let body = serde_json::to_vec_pretty(&Written {
            format: FORMAT,
            rooms,
        })
        .map_err(std::io::Error::other)?;
        let (temp, mut file) = create_temp(&dir, &name)?;
        let mut renamed = false;
        let written = (|| {
            file.write_all(&body)?;
            file.write_all(b"\n")?;
            file.sync_all()?;
            std::fs::rename(&temp, &self.path)?;
            renamed = true;
            // The rename itself is durable once the directory is.
            #[cfg(unix)]
            std::fs::File::open(&dir)?.sync_all()?;
            Ok(())
        })();
        if written.is_err() && !renamed {
            let _ = std::fs::remove_file(&temp);
        }
        written
    }
}

/// A new temporary file in `dir` for the catalog `name`: a random name, created with
/// exclusive create (a file or a symlink already there is an error, never opened),
/// no-follow, and mode 0600 (invites and bans are the operator's business). A name
/// that happens to be taken is retried with another.
fn create_temp(dir: &Path, name: &str) -> std::io::Result<(PathBuf, std::fs::File)> {
    let mut attempts = 0;
    loop {
        let temp = dir.join(format!(".{name}.{:016x}.tmp", rand::random::<u64>()));
        match open_new_private(&temp) {
            Ok(file) => return Ok((temp, file)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && attempts < 3 => {
                attempts += 1;
            }
            Err(e) => return Err(e),
        }
    }
}

/// Create `path`, which must not exist yet (not even as a dangling symlink), for
/// writing, readable by its owner only.
fn open_new_private(path: &Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600).custom_flags(libc::O_NOFOLLOW);
    }
    options.open(path)
}

enum Parse {
    Invalid(String),
    Newer(u64),
}

/// Read any format this Kindred knows.
fn parse(text: &str) -> Result<Vec<Room>, Parse> {
    #[derive(Deserialize)]
    struct Header {
        format: Option<u64>,
    }
    let header: Header = serde_json::from_str(text).map_err(|e| Parse::Invalid(e.to_string()))?;
    match header.format {
        None => Err(Parse::Invalid("it names no `format`".to_owned())),
        Some(1) => serde_json::from_str::<Format1>(text)
            .map(|f| f.rooms)
            .map_err(|e| Parse::Invalid(e.to_string())),
        Some(n) if n > u64::from(FORMAT) => Err(Parse::Newer(n)),
        Some(n) => Err(Parse::Invalid(format!("unknown format {n}"))),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use kindred_protocol::{RoomId, Visibility};

    use super::*;
    use crate::room::{Limits, RoomConfig};

    /// A fresh directory for a test's catalog file (here and in the memory broker's
    /// tests).
    pub(crate) fn dir() -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "kindred-catalog-test-{}-{}",
            std::process::id(),
            rand::random::<u64>()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn room(title: &str) -> Room {
        Room::new(
            RoomId::new(),
            RoomConfig {
                title: title.to_owned(),
                topic: String::new(),
                description: String::new(),
                guidelines: "Be kind.".to_owned(),
                capacity: 12,
                visibility: Visibility::Unlisted,
                policy: Default::default(),
                facilitated: true,
                schedule: None,
                waiting_room: true,
                cw_topics: crate::room::default_cw_topics(),
            },
            Limits::default(),
        )
    }

    #[test]
    fn a_missing_file_is_an_empty_catalog_and_a_stored_one_reads_back() {
        let dir = dir();
        let file = CatalogFile::new(dir.join("catalog.json"));
        assert!(file.load().unwrap().is_empty());
        let rooms = vec![room("Tuesday group"), room("Thursday group")];
        file.store(&rooms).unwrap();
        assert_eq!(file.load().unwrap(), rooms);
        // Stored again, smaller: the file is replaced whole, and no temporary file stays.
        file.store(&rooms[..1]).unwrap();
        assert_eq!(file.load().unwrap(), rooms[..1]);
        let names: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(names, ["catalog.json"]);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(file.path()).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn format_1_as_first_written_still_reads() {
        // Written by the first Kindred with a catalog file; every later version must
        // read it (a room in its second session, with a schedule, a banned member, and
        // an invite that seated a facilitator).
        let text = include_str!("../tests/fixtures/catalog-format-1.json");
        let rooms = parse(text).unwrap_or_else(|_| panic!("format 1 reads"));
        assert_eq!(rooms.len(), 1);
        let room = &rooms[0];
        assert_eq!(room.config.title, "Tuesday evening group");
        assert!(room.config.schedule.is_some());
        assert_eq!(room.session(), 1);
        assert!(room.is_open());
        let invites = room.invites();
        assert_eq!(invites.len(), 1);
        assert_eq!(invites[0].used, 1);
        assert_eq!(invites[0].seats.len(), 1);
    }

    #[test]
    fn a_newer_or_foreign_file_is_refused_by_name() {
        let dir = dir();
        let file = CatalogFile::new(dir.join("catalog.json"));
        std::fs::write(file.path(), r#"{"format": 7, "rooms": [], "shelves": {}}"#).unwrap();
        let e = file.load().unwrap_err().to_string();
        assert!(e.contains("format 7") && e.contains("newer Kindred"), "{e}");
        std::fs::write(file.path(), r#"{"rooms": []}"#).unwrap();
        let e = file.load().unwrap_err().to_string();
        assert!(
            e.contains("not a Kindred catalog") && e.contains("format"),
            "{e}"
        );
        std::fs::write(file.path(), "{\"format\": 1,\n \"rooms\": [1}").unwrap();
        let e = file.load().unwrap_err().to_string();
        assert!(e.contains("line 2"), "a broken file names the line: {e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn a_symlink_planted_at_a_temporary_name_is_never_followed() {
        let dir = dir();
        let file = CatalogFile::new(dir.join("catalog.json"));
        // Someone who can write to the directory plants symlinks at the names a
        // predictable writer would use, pointing at a file of the operator's.
        let victim = dir.join("victim");
        std::fs::write(&victim, "the operator's own file").unwrap();
        for planted in [
            format!(".catalog.json.{}.tmp", std::process::id()),
            ".catalog.json.tmp".to_owned(),
        ] {
            std::os::unix::fs::symlink(&victim, dir.join(planted)).unwrap();
        }
        let rooms = vec![room("Tuesday group")];
        file.store(&rooms).unwrap();
        assert_eq!(
            std::fs::read_to_string(&victim).unwrap(),
            "the operator's own file"
        );
        assert!(
            !std::fs::symlink_metadata(file.path())
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert_eq!(file.load().unwrap(), rooms);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn a_temporary_file_is_new_private_and_never_an_existing_file_or_symlink() {
        use std::os::unix::fs::PermissionsExt;
        let dir = dir();
        let (a, _) = create_temp(&dir, "catalog.json").unwrap();
        let (b, _) = create_temp(&dir, "catalog.json").unwrap();
        assert_ne!(a, b, "each write picks a name of its own");
        let mode = std::fs::metadata(&a).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        // A name that is taken, by a file or by a symlink (dangling or not), is
        // refused, and what is there is left as it was.
        let existing = dir.join("existing");
        std::fs::write(&existing, "kept").unwrap();
        let dangling = dir.join("dangling");
        std::os::unix::fs::symlink(dir.join("nowhere"), &dangling).unwrap();
        let pointing = dir.join("pointing");
        std::os::unix::fs::symlink(&existing, &pointing).unwrap();
        for taken in [&existing, &dangling, &pointing] {
            let e = open_new_private(taken).unwrap_err();
            assert_eq!(e.kind(), std::io::ErrorKind::AlreadyExists, "{taken:?}");
        }
        assert_eq!(std::fs::read_to_string(&existing).unwrap(), "kept");
        assert!(!dir.join("nowhere").exists());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
