package org.neurite.plugin;

/**
 * A plugin that cannot be used: a plugin folder that does not exist, a file that is not a jar, a
 * provider that fails to load or to construct, a Guice module that fails, or two plugins that
 * register the same layer, backend or kernel. The message names the jar (or class folder) of
 * every plugin involved and says what to do. It is an {@link IllegalArgumentException} because
 * plugin folders are input, like any other deployment setting: the command line reports it as
 * one line with exit status 2.
 */
public final class PluginException extends IllegalArgumentException {
    public PluginException(String message) { super(message); }
}
