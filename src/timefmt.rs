//! Times for people: `mm:ss.cc` in timelines, `m:ss` on screens.

/// `mm:ss.cc`, for timelines.
pub fn clock(seconds: f64) -> String {
    let cs = (seconds.max(0.0) * 100.0).round() as u64;
    format!("{:02}:{:02}.{:02}", cs / 6000, (cs / 100) % 60, cs % 100)
}

/// `m:ss` (or `h:mm:ss`), for a call timer on screen.
pub fn clock_short(seconds: f64) -> String {
    let s = seconds.max(0.0).floor() as u64;
    if s >= 3600 {
        format!("{}:{:02}:{:02}", s / 3600, (s / 60) % 60, s % 60)
    } else {
        format!("{:02}:{:02}", s / 60, s % 60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_read_as_a_person_expects() {
        assert_eq!(clock(65.123), "01:05.12");
        assert_eq!(clock_short(65.9), "01:05");
        assert_eq!(clock_short(3725.0), "1:02:05");
    }
}
