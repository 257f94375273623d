#!/usr/bin/env node
// The installed `tickwork` command. It lives outside dist/ so package managers can link it
// at install time, before a workspace build has produced dist/bin.js.
import '../dist/bin.js';
