// A CommonJS file of a Node-only project: require("threadtail") (require(esm), Node 20.19+).
import tt = require("threadtail");

const parser: tt.SseParser = new tt.SseParser();
parser.push("data: x\n\n");
export = parser;
