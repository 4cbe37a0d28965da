/// The admission controller's whole state, changed only under its lock: the count of requests in
/// flight, the limits, and the requests waiting for a slot, oldest first.
///
/// One value holds all of it, so no interleaving of an arrival and a departure can leave a
/// request waiting while a slot is free (the lost wake-up of a design that checked the queue
/// outside the lock). Each event returns what the caller must do; `Waiter` is generic so the
/// transitions are tested without event loops.
struct AdmissionState<Waiter: AnyObject> {
    private(set) var inFlight = 0
    private(set) var maxConcurrent: Int
    private(set) var maxQueue: Int
    private(set) var waiting: [Waiter] = []

    init(maxConcurrent: Int, maxQueue: Int) {
        self.maxConcurrent = maxConcurrent
        self.maxQueue = maxQueue
    }

    enum Arrival: Equatable { case admitted, queued, rejected }

    /// A request arrives: in if there is room (and no one waits before it), else in line if the
    /// line has room, else refused. `waiter` is made only when the request has to wait.
    mutating func arrive(_ waiter: @autoclosure () -> Waiter) -> Arrival {
        if hasRoom && waiting.isEmpty {
            inFlight += 1
            return .admitted
        }
        guard waiting.count < maxQueue else { return .rejected }
        waiting.append(waiter())
        return .queued
    }

    /// A request in flight finished. Returns the waiter its slot passes to, if any (in flight
    /// stays the same then).
    mutating func depart() -> Waiter? {
        precondition(inFlight > 0, "a request departed that was never admitted")
        inFlight -= 1
        return admitNext().first
    }

    /// A waiter gave up (client gone, queue timeout). False when it was already admitted.
    mutating func cancel(_ waiter: Waiter) -> Bool {
        guard let i = waiting.firstIndex(where: { $0 === waiter }) else { return false }
        waiting.remove(at: i)
        return true
    }

    /// New limits from a reload. Returns the waiters a higher limit lets in now; a lower one lets
    /// requests in flight finish and admits no one until they are below it.
    mutating func reconfigure(maxConcurrent: Int, maxQueue: Int) -> [Waiter] {
        self.maxConcurrent = maxConcurrent
        self.maxQueue = maxQueue
        return admitNext(all: true)
    }

    /// 0 means no limit.
    var hasRoom: Bool { maxConcurrent == 0 || inFlight < maxConcurrent }

    private mutating func admitNext(all: Bool = false) -> [Waiter] {
        var admitted: [Waiter] = []
        while hasRoom, !waiting.isEmpty {
            admitted.append(waiting.removeFirst())
            inFlight += 1
            if !all { break }
        }
        return admitted
    }
}

extension AdmissionState: Sendable where Waiter: Sendable {}
