package syncer

// Routes of the edge Worker, relative to its base URL. Each takes a JSON
// body by POST and answers JSON (see docs/sync.md#the-wire).
const (
	RouteHello = "/sync/hello" // HelloRequest → HelloResponse
	RoutePush  = "/sync/push"  // PushRequest → PushResponse
	RoutePull  = "/sync/pull"  // PullRequest → PullResponse
)

// HelloRequest asks the server whether this device may sync.
type HelloRequest struct {
	Hello Hello `json:"hello"`
}

// HelloResponse is the server's migration state; it is only sent when the
// device may sync (otherwise the answer is an error with its code).
type HelloResponse struct {
	Server ServerVersion `json:"server"`
}

// ErrorBody is every error the edge answers: {"error": {code, message}}.
type ErrorBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// MaxBody bounds a request or answer body of the sync routes (a push of
// MaxBatch changes, a pull page of MaxPage rows).
const MaxBody = 16 << 20
