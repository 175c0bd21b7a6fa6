//! Values a client made up at random and hands the server: a browser's device id, a
//! facilitator's seat key, a seat's one-time code. Each is checked for its form here;
//! the server keeps only keyed marks of them and never logs them.

use kindred_protocol::ErrorCode;

use crate::http::error::AppError;

/// A device id as the web client makes one: 16–64 characters of `A–Z a–z 0–9 - _`.
pub(super) fn check_device(device: Option<&str>) -> Result<Option<&str>, AppError> {
    device.map(|d| random_looking("device", d)).transpose()
}

/// A value a client made up at random (a device id, a seat key, a seat code): 16–64
/// characters of `A–Z a–z 0–9 - _`, or a `bad_request` naming the field.
pub(super) fn random_looking<'a>(field: &str, value: &'a str) -> Result<&'a str, AppError> {
    if (16..=64).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        Ok(value)
    } else {
        Err(AppError::new(
            ErrorCode::BadRequest,
            format!("{field} must be 16 to 64 characters of letters, digits, '-' and '_'"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::check_device;

    #[test]
    fn device_ids_are_random_looking_and_bounded() {
        assert_eq!(check_device(None).ok(), Some(None));
        assert!(check_device(Some("Zx8-_abcdefghijkl")).is_ok());
        assert!(check_device(Some("short")).is_err());
        assert!(check_device(Some(&"a".repeat(65))).is_err());
        assert!(check_device(Some("has spaces in it, sixteen+")).is_err());
        assert!(check_device(Some("ünïcödé-ünïcödé-ünïcödé")).is_err());
    }
}
