//! A job's schedule: its cron expression (5 fields, or 6 with seconds first; `@hourly`-style
//! shorthands), the IANA time zone it is read in (UTC unless `@fluxbase:schedule-tz`), and the
//! payload each scheduled run gets. It computes tick times only: the scheduler in `jobs` decides
//! which tick runs and enqueues it.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use croner::Cron;
use croner::parser::{CronParser, Seconds, Year};
use serde::Serialize;

use crate::time::Timestamp;

/// When a job runs by itself, and with what payload.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Schedule {
    /// The cron expression as written.
    pub expression: String,
    /// The time zone it is read in.
    #[schema(value_type = String)]
    pub timezone: Tz,
    /// The payload of each scheduled run.
    #[schema(value_type = Object)]
    pub payload: serde_json::Value,
    #[serde(skip)]
    cron: Cron,
}

impl PartialEq for Schedule {
    fn eq(&self, other: &Self) -> bool {
        self.expression == other.expression
            && self.timezone == other.timezone
            && self.payload == other.payload
    }
}

impl Schedule {
    /// Parses a cron expression: `*/5 * * * *`, `0 3 * * MON-FRI`, `*/10 * * * * *` (seconds
    /// first) or a shorthand (`@hourly`, `@daily`, `@weekly`, `@monthly`, `@yearly`).
    pub fn parse(expression: &str) -> Result<Schedule, String> {
        let parser = CronParser::builder()
            .seconds(Seconds::Optional)
            .year(Year::Disallowed)
            .build();
        let cron = parser.parse(expression).map_err(|e| {
            format!(
                "{expression:?} is not a cron expression (5 fields like */5 * * * *, 6 with \
                 seconds first, or @hourly): {e}"
            )
        })?;
        Ok(Schedule {
            expression: expression.to_owned(),
            timezone: Tz::UTC,
            payload: serde_json::Value::Null,
            cron,
        })
    }

    /// The same schedule read in the IANA time zone `name` (`Europe/Berlin`).
    pub fn in_zone(mut self, name: &str) -> Result<Schedule, String> {
        self.timezone = name
            .parse()
            .map_err(|_| format!("{name:?} is not an IANA time zone like Europe/Berlin"))?;
        Ok(self)
    }

    /// The same schedule, each run getting `payload`.
    pub fn with_payload(mut self, payload: serde_json::Value) -> Schedule {
        self.payload = payload;
        self
    }

    /// The payload of each scheduled run.
    pub fn payload(&self) -> &serde_json::Value {
        &self.payload
    }

    /// The first tick strictly after `after`, if the expression has one.
    pub fn next_after(&self, after: Timestamp) -> Option<Timestamp> {
        let at =
            DateTime::<Utc>::from_timestamp_millis(after.millis())?.with_timezone(&self.timezone);
        let next = self.cron.find_next_occurrence(&at, false).ok()?;
        Some(Timestamp::from_millis(
            next.with_timezone(&Utc).timestamp_millis(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(rfc3339: &str) -> Timestamp {
        Timestamp::from_millis(
            DateTime::parse_from_rfc3339(rfc3339)
                .unwrap()
                .timestamp_millis(),
        )
    }

    #[test]
    fn ticks_in_utc_and_in_a_zone() {
        let hourly = Schedule::parse("@hourly").unwrap();
        assert_eq!(
            hourly.next_after(at("2027-01-15T08:30:00Z")),
            Some(at("2027-01-15T09:00:00Z"))
        );
        // 03:00 in Berlin is 02:00 UTC in winter.
        let berlin = Schedule::parse("0 3 * * *")
            .unwrap()
            .in_zone("Europe/Berlin")
            .unwrap();
        assert_eq!(
            berlin.next_after(at("2027-01-15T08:30:00Z")),
            Some(at("2027-01-16T02:00:00Z"))
        );
        let seconds = Schedule::parse("*/2 * * * * *").unwrap();
        assert_eq!(
            seconds.next_after(at("2027-01-15T08:30:00Z")),
            Some(at("2027-01-15T08:30:02Z"))
        );
    }

    #[test]
    fn refuses_what_is_not_a_schedule() {
        assert!(Schedule::parse("every minute").is_err());
        assert!(Schedule::parse("* * * *").is_err());
        assert!(Schedule::parse("61 * * * *").is_err());
        assert!(
            Schedule::parse("@hourly")
                .unwrap()
                .in_zone("Mars/Olympus")
                .is_err()
        );
    }
}
