{
  # The tmem addon, built by `npm install` (scripts/install.js) and scripts/prebuild.sh. CMakeLists.txt
  # builds the same sources for native unit tests and sanitizer runs.
  'targets': [
    {
      'target_name': 'tmem',
      'sources': [
        # Core sources (native/sources.txt) and the N-API glue (native/napi/sources.txt), lists
        # shared with CMakeLists.txt.
        '<!@(node native/build/sources.js core)',
        '<!@(node native/build/sources.js napi)',
      ],
      'include_dirs': [
        # Where pkg-config says lz4.h is, if not a default directory (usually nothing).
        '<!@(node native/build/lz4.js include)',
        "<!(node -p \"require('node-addon-api').include_dir\")",
      ],
      'libraries': [
        # The system liblz4.a (pkg-config's libdir); a missing liblz4 fails here with the reason.
        '<!@(node native/build/lz4.js libraries)',
      ],
      'defines': [
        'NAPI_VERSION=8',
        'NAPI_DISABLE_CPP_EXCEPTIONS',
        # A worker terminated in the middle of a call makes N-API calls fail; without this,
        # node-addon-api turns the failed throw of that error into a fatal error (process abort).
        'NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS',
      ],
      'cflags': ['-fvisibility=hidden', '-Wall', '-Wextra'],
      'cflags_cc': ['-std=c++17', '-fno-exceptions', '-fvisibility=hidden'],
      'cflags_cc!': ['-std=gnu++17', '-std=gnu++20', '-fexceptions'],
      'conditions': [
        ['OS=="linux"', {
          # Keep the statically linked liblz4's symbols out of the addon's dynamic symbol table,
          # so they can neither clash with nor be interposed by another lz4 in the process.
          'ldflags': ['-Wl,--exclude-libs,ALL'],
        }],
        ['OS=="mac"', {
          'xcode_settings': {
            'CLANG_CXX_LANGUAGE_STANDARD': 'c++17',
            'GCC_ENABLE_CPP_EXCEPTIONS': 'NO',
            'GCC_SYMBOLS_PRIVATE_EXTERN': 'YES',
            'MACOSX_DEPLOYMENT_TARGET': '11.0',
          },
        }],
      ],
    },
  ],
}
