import PluginABI

extension ph_loss_reason {
    /// The ABI minor version that added each loss reason after 2.0.
    private var addedInMinor: UInt32 {
        self == PH_LOSS_OUT_OF_MEMORY ? 2 : 0
    }

    /// This reason as a plugin that declares ABI minor version `minor` may see it: a reason added
    /// later is given as the closest one that plugin knows (out of memory: the worker died), so
    /// an older plugin's `switch` never meets a value it cannot know.
    func seen(byABIMinor minor: UInt32) -> ph_loss_reason {
        guard addedInMinor > minor else { return self }
        return PH_LOSS_WORKER_DIED
    }
}
