//! How channels are named for people: "left", "right", "mono", "channel 3".

/// The name of `channel` (from 0) among `channels`.
pub fn channel_name(channel: usize, channels: usize) -> String {
    match (channels, channel) {
        (1, _) => "mono".into(),
        (2, 0) => "left".into(),
        (2, 1) => "right".into(),
        _ => format!("channel {}", channel + 1),
    }
}

#[cfg(test)]
mod tests {
    use super::channel_name;

    #[test]
    fn channels_are_named_by_their_place() {
        assert_eq!(channel_name(0, 1), "mono");
        assert_eq!(channel_name(0, 2), "left");
        assert_eq!(channel_name(1, 2), "right");
        assert_eq!(channel_name(2, 6), "channel 3");
    }
}
