/// Seconds as nanoseconds, clamped to [0, about 100 years] so no configuration can overflow.
func nanoseconds(fromSeconds seconds: Double) -> UInt64 {
    guard seconds.isFinite, seconds > 0 else { return 0 }
    return UInt64(min(seconds, 3.0e9) * 1e9)
}
