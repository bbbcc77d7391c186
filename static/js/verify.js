// Audit-log entry page: recompute the leaf hash and the RFC 9162 inclusion proof in the
// visitor's browser with WebCrypto SHA-256, and say whether they lead to the root.
// Data comes from data-* attributes on #auditlog-verify (the CSP forbids inline script).
(function () {
  "use strict";

  function hexToBytes(hex) {
    var out = new Uint8Array(hex.length / 2);
    for (var i = 0; i < out.length; i++) out[i] = parseInt(hex.substr(i * 2, 2), 16);
    return out;
  }

  function bytesToHex(bytes) {
    return Array.prototype.map.call(bytes, function (b) {
      return ("0" + b.toString(16)).slice(-2);
    }).join("");
  }

  function concat(prefix, parts) {
    var length = 1;
    parts.forEach(function (p) { length += p.length; });
    var out = new Uint8Array(length);
    out[0] = prefix;
    var offset = 1;
    parts.forEach(function (p) { out.set(p, offset); offset += p.length; });
    return out;
  }

  function sha256(bytes) {
    return window.crypto.subtle.digest("SHA-256", bytes).then(function (d) {
      return new Uint8Array(d);
    });
  }

  function leafHash(payload) {
    return sha256(concat(0x00, [new TextEncoder().encode(payload)]));
  }

  function nodeHash(left, right) {
    return sha256(concat(0x01, [left, right]));
  }

  // RFC 9162 section 2.1.3.2. Sizes fit comfortably in JavaScript's 2^53 integers.
  async function rootFromProof(index, size, leaf, path) {
    if (index >= size) throw new Error("index outside the tree");
    var fn = index, sn = size - 1, r = leaf;
    for (var i = 0; i < path.length; i++) {
      if (sn === 0) throw new Error("proof too long");
      if (fn % 2 === 1 || fn === sn) {
        r = await nodeHash(path[i], r);
        while (fn % 2 === 0 && fn !== 0) { fn = Math.floor(fn / 2); sn = Math.floor(sn / 2); }
      } else {
        r = await nodeHash(r, path[i]);
      }
      fn = Math.floor(fn / 2); sn = Math.floor(sn / 2);
    }
    if (sn !== 0) throw new Error("proof too short");
    return r;
  }

  async function verify(box, say) {
    var d = box.dataset;
    var leaf = await leafHash(d.payload);
    if (bytesToHex(leaf) !== d.leafHash) return say(d.msgLeaf, false);
    var path = d.path ? d.path.split(",").map(hexToBytes) : [];
    var root = await rootFromProof(Number(d.index), Number(d.treeSize), leaf, path);
    if (bytesToHex(root) !== d.root) return say(d.msgRoot, false);
    return say(d.msgOk, true);
  }

  document.addEventListener("DOMContentLoaded", function () {
    var box = document.getElementById("auditlog-verify");
    if (!box) return;
    var result = document.getElementById("auditlog-verify-result");
    function say(text, ok) {
      result.textContent = text;
      box.classList.remove("verify-ok", "verify-bad");
      if (ok !== null) box.classList.add(ok ? "verify-ok" : "verify-bad");
    }
    if (!window.crypto || !window.crypto.subtle || !window.TextEncoder) {
      say(box.dataset.msgUnsupported, null);
      return;
    }
    say(box.dataset.msgChecking, null);
    verify(box, say).catch(function () { say(box.dataset.msgRoot, false); });
  });
})();
