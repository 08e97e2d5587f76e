package syncer

// CodeBusy is answered (503, Retry-After) when a push kept losing to
// concurrent pushes of the same database; nothing of it was written.
const CodeBusy = "LARDER_BUSY"
