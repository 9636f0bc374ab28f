// The one place the UI library is imported: Preact renders, htm turns tagged templates into
// Preact calls at run time (no JSX build). Every ${value} in a template becomes a text node or a
// property, never parsed HTML, so lead data cannot inject markup.
import { h, render, Fragment } from "../vendor/preact.js";
import { useState, useEffect, useRef, useCallback, useMemo } from "../vendor/hooks.js";
import htm from "../vendor/htm.js";

export const html = htm.bind(h);
export { render, Fragment, useState, useEffect, useRef, useCallback, useMemo };
