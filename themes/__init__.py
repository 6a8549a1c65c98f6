"""The console's themes, one TOML file each (see `console.themes`).

A package only so that an installed flowconsole carries the files: they are
package data, installed next to `console`, where the console looks for them.
"""
