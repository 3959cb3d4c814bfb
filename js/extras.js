// Installed once by the package entry points: makes streams and list results async-iterable.
import { ThreadStream, SessionStream, EventIterator, ListIterator } from "./threadtail.js";

for (const Stream of [ThreadStream, SessionStream]) {
  Stream.prototype[Symbol.asyncIterator] = function () {
    return this.events();
  };
}
for (const Iterator of [EventIterator, ListIterator]) {
  Iterator.prototype[Symbol.asyncIterator] = function () {
    return this;
  };
}
