// The worker side of check.js: the README's worker pattern (import the package statically, set
// onmessage at once). Answers the first message with what it parsed and received.
export function serve(tt) {
  self.onmessage = ({ data }) => {
    const answer = { parsed: new tt.SseParser().push("data: w\n\n")[0]?.data === "w" };
    const stream = new tt.ThreadStream({ baseUrl: data.base, sessionId: data.session, threadId: data.thread, token: data.token });
    stream.onError((e) => self.postMessage({ ...answer, error: `${e.kind}: ${e.message}` }));
    stream.onEvent((e) => {
      stream.close();
      self.postMessage({ ...answer, event: e.content });
    });
  };
}
