// A dedicated worker that follows the same thread with threadtail/tabs (Web Locks and
// BroadcastChannel exist in workers too): it shares the connection with the pages.
const ready = import("./pkg/tabs.js");
self.onmessage = async ({ data }) => {
  const { SharedThreadStream } = await ready;
  const stream = new SharedThreadStream(data);
  stream.onEvent((e) => self.postMessage({ id: e.id, role: stream.role }));
  stream.onRoleChange((role) => self.postMessage({ role }));
};
