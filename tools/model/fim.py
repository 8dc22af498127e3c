"""FIM prompt formats used in training (also written to tokenizer_config.json and config.json)."""
FIM_CONFIG = {
    'psm': True,
    'spm': True,
    'psm_format': '<|fim_prefix|>{prefix}<|fim_suffix|>{suffix}<|fim_middle|>{middle}<|endoftext|>',
    'spm_format': '<|fim_suffix|>{suffix}<|fim_prefix|>{prefix}<|fim_middle|>{middle}<|endoftext|>',
    'preferred': 'psm',
    'middle_end_token': '<|endoftext|>',
    'file_separator': '<|file_sep|>',
    'file_header_format': '<|file_sep|>{path}\n{content}<|endoftext|>',
}
