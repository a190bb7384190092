package org.neurite.benchmarks;

import java.net.URL;
import java.net.URLClassLoader;

/**
 * A class loader that loads the classes whose names start with a prefix from its own URLs first
 * (the rest from its parent), so that two builds of the same classes can run side by side in one
 * JVM: how {@link PairedKernels} and {@link PairedWorkloads} compare a build with the one before.
 */
final class ChildFirstClassLoader extends URLClassLoader {
    private final String prefix;

    ChildFirstClassLoader(URL[] urls, ClassLoader parent, String prefix) {
        super(urls, parent);
        this.prefix = prefix;
    }

    @Override
    protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
        if (!name.startsWith(prefix)) return super.loadClass(name, resolve);
        synchronized (getClassLoadingLock(name)) {
            Class<?> c = findLoadedClass(name);
            if (c == null) c = findClass(name);
            if (resolve) resolveClass(c);
            return c;
        }
    }
}
