//! Parsing of `--expires`: a duration from now (`30d`, `12h`, `2w`, `1y`, `90m`) or an RFC 3339
//! time (`2027-01-31T00:00:00Z`), after `now` and no later than 9999-12-31. Pure parsing, given
//! `now`: whether a stored secret has expired is the service's call; nothing here reads the store.

use chrono::{DateTime, Utc};

use crate::time::Timestamp;
use crate::{Error, Result};

/// The latest expiry: 9999-12-31T23:59:59.999Z, the last instant RFC 3339 (four-digit years)
/// can write, so that every expiry prints as RFC 3339 and parses back.
const LATEST_MILLIS: i64 = 253_402_300_799_999;

/// The end of an `--expiring` window (`7d`, `12h`): `now` plus the duration, held to the latest
/// time a timestamp can print.
pub fn expiring_before(raw: &str, now: Timestamp) -> Result<Timestamp> {
    let duration = humantime::parse_duration(raw.trim()).map_err(|_| {
        Error::invalid(format!(
            "invalid expiring window {raw:?}: use a duration such as 7d, 12h or 2w"
        ))
    })?;
    let millis = i64::try_from(duration.as_millis()).unwrap_or(i64::MAX);
    Ok(Timestamp::from_millis(
        now.millis().saturating_add(millis).min(LATEST_MILLIS),
    ))
}

/// Turns an `--expires` argument into the instant the secret expires, relative to `now`.
pub fn parse_expiry(raw: &str, now: Timestamp) -> Result<Timestamp> {
    let raw = raw.trim();
    if let Ok(at) = DateTime::parse_from_rfc3339(raw) {
        let at = Timestamp::from(at.with_timezone(&Utc));
        if at <= now {
            return Err(Error::invalid(format!(
                "expiry {raw} is in the past; give a future time or a duration such as 30d"
            )));
        }
        if at.millis() > LATEST_MILLIS {
            return Err(Error::invalid(format!(
                "expiry {raw} is after 9999-12-31T23:59:59Z"
            )));
        }
        return Ok(at);
    }
    let duration = humantime::parse_duration(raw).map_err(|_| {
        Error::invalid(format!(
            "invalid expiry {raw:?}: use a duration such as 30d, 12h, 2w or 1y, or an RFC 3339 \
             time such as 2027-01-31T00:00:00Z"
        ))
    })?;
    if duration.as_millis() == 0 {
        return Err(Error::invalid("expiry duration must be at least 1ms"));
    }
    let millis = i64::try_from(duration.as_millis())
        .ok()
        .and_then(|ms| now.millis().checked_add(ms))
        .filter(|&ms| ms <= LATEST_MILLIS)
        .ok_or_else(|| Error::invalid(format!("expiry {raw:?} is too far in the future")))?;
    Ok(Timestamp::from_millis(millis))
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = 86_400_000;

    #[test]
    fn accepts_documented_durations() {
        let now = Timestamp::from_millis(1_000_000_000_000);
        let after = |raw: &str| parse_expiry(raw, now).unwrap().millis() - now.millis();
        assert_eq!(after("30d"), 30 * DAY);
        assert_eq!(after("12h"), DAY / 2);
        assert_eq!(after("2w"), 14 * DAY);
        assert!(after("1y") >= 365 * DAY);
    }

    #[test]
    fn accepts_rfc3339_in_the_future_only() {
        let now = Timestamp::from_millis(1_000_000_000_000);
        assert!(parse_expiry("2099-01-01T00:00:00Z", now).is_ok());
        assert!(parse_expiry("2000-01-01T00:00:00Z", now).is_err());
    }

    #[test]
    fn refuses_garbage() {
        let now = Timestamp::now();
        for bad in [
            "",
            "soon",
            "30",
            "-1d",
            "0s",
            "1ns",
            "99999999999y",
            "9000y",
            "9999-12-31T23:59:59-01:00",
        ] {
            assert!(parse_expiry(bad, now).is_err(), "{bad:?} was accepted");
        }
    }
}
